"""The backend process the add-on's preferences name: started with their checkpoint and MANO folder, its log, and
what its hello said about sampling, kept for the panel."""
from __future__ import annotations

import tempfile
from pathlib import Path

from ..core.backend_client import BackendError, BackendProcess
from ..core.backend_sampling import BackendSampling
from .backend_environment import backend_paths
from .settings import CaptureSetupError, addon_preferences, path_setting

LOG_PATH = Path(tempfile.gettempdir()) / "maskhand" / "backend.log"


def start_backend(preferences) -> BackendProcess:
    """The backend the preferences name, serving their checkpoint and MANO folder, so its hello describes what
    the requests use."""
    folder, python = backend_paths(preferences)
    options = [(option, path_setting(value)) for option, value in (("--checkpoint", preferences.checkpoint),
                                                                   ("--mano-folder", preferences.mano_folder)) if value]
    try:
        return BackendProcess(python, folder, LOG_PATH, tuple(part for pair in options for part in pair))
    except BackendError as error:
        raise CaptureSetupError(str(error)) from None


def remember_hello(preferences, hello: dict) -> None:
    """Keep what the backend's hello says about sampling, for the panel (until Blender quits)."""
    preferences.last_sampling = BackendSampling.of_hello(hello).to_json()


def known_sampling(context) -> BackendSampling:
    """What the last hello said about sampling (nothing known before any backend has said hello)."""
    return BackendSampling.from_json(addon_preferences(context).last_sampling)
