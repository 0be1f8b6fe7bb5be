"""Where the backend is, where its Python environment lives, and making that environment from Blender.

The installed extension carries the backend (code, default weights, tools/bootstrap.py and the pinned
requirements: build.py puts them in the zip); its environment goes into the extension's user folder,
never into Blender's own site-packages. A developer's checkout set as Backend Folder keeps its .venv.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import bpy

from ..core.backend_client import venv_python

# The add-on's package: "maskhand_blender" in a checkout, "bl_ext.<repository>.maskhand" when installed.
ADDON = __package__.rpartition(".")[0]
PACKAGE_DIR = Path(__file__).resolve().parent.parent
ENVIRONMENT_LOG = Path(tempfile.gettempdir()) / "maskhand" / "environment.log"


def bundled_folder() -> str:
    """The folder holding backend/: the extension's own (installed from the zip), else the checkout it runs from."""
    for folder in (PACKAGE_DIR, PACKAGE_DIR.parent):
        if (folder / "backend" / "__main__.py").is_file():
            return str(folder)
    return ""


def environment_folder(backend_folder: str | Path) -> Path:
    """The backend's environment for ``backend_folder``: the extension's user folder for the bundled backend
    (kept when the extension is updated), the folder's .venv for a checkout."""
    if Path(backend_folder).resolve() == PACKAGE_DIR and ADDON.startswith("bl_ext."):
        return Path(bpy.utils.extension_path_user(ADDON, path="backend-env", create=False))
    return Path(backend_folder) / ".venv"


def backend_paths(preferences) -> tuple:
    """(backend folder, backend python) from the preferences: the folder defaults to the bundled backend,
    the python to that folder's environment."""
    folder = bpy.path.abspath(preferences.backend_folder) if preferences.backend_folder else bundled_folder()
    python = bpy.path.abspath(preferences.backend_python) if preferences.backend_python else ""
    if not python and folder:
        python = str(venv_python(environment_folder(folder)))
    return folder, python


class EnvironmentJob:
    """``tools/bootstrap.py --backend-only`` run by ``interpreter`` (Blender's own Python unless the user names
    another 3.11 or 3.13), making the backend's environment; its log is ENVIRONMENT_LOG. The operator's timer
    (and the tests) call ``poll`` until it returns the outcome."""

    def __init__(self, backend_folder: str, interpreter: str = ""):
        bootstrap = Path(backend_folder) / "tools" / "bootstrap.py"
        if not bootstrap.is_file():
            raise FileNotFoundError(f"'{backend_folder}' has no tools/bootstrap.py: set Backend Folder to the MaskHand "
                                    "folder, or leave it empty for the backend the extension carries")
        self.interpreter = interpreter or sys.executable
        if not Path(self.interpreter).is_file():
            raise FileNotFoundError(f"Environment Python '{self.interpreter}' not found: name a Python 3.11 or 3.13 "
                                    "in Preferences > Add-ons > MaskHand")
        self.target = environment_folder(backend_folder)
        ENVIRONMENT_LOG.parent.mkdir(parents=True, exist_ok=True)
        self.log = open(ENVIRONMENT_LOG, "wb")
        environment = {**os.environ, "PYTHONUNBUFFERED": "1"}  # each step's line shows as it starts
        environment.pop("PYTHONPATH", None)  # Blender's own paths must not leak into the new environment
        # pip's own settings (PIP_INDEX_URL, PIP_FIND_LINKS, a pip.conf) choose the package source.
        self.process = subprocess.Popen([self.interpreter, str(bootstrap), "--backend-only", "--venv", str(self.target)],
                                        cwd=backend_folder, stdout=self.log, stderr=subprocess.STDOUT, env=environment)

    def status(self) -> str:
        """One line for the panel: the step the bootstrap is on."""
        return _last_line(ENVIRONMENT_LOG)

    def poll(self) -> str | None:
        """None while running; then "ready", or a failure naming the log."""
        if self.process.poll() is None:
            return None
        self.log.close()
        if self.process.returncode != 0:
            return (f"failed (exit {self.process.returncode}): {self.status()}; see '{ENVIRONMENT_LOG}'. If "
                    f"'{self.interpreter}' cannot make environments, name a Python 3.11 or 3.13 as Environment Python")
        return "ready"

    def cancel(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        self.log.close()


def _last_line(path: Path) -> str:
    try:
        with open(path, "rb") as file:
            file.seek(max(0, file.seek(0, 2) - 400))
            lines = file.read().decode("utf-8", "replace").strip().splitlines()
    except OSError:
        return ""
    return lines[-1][:120] if lines else ""
