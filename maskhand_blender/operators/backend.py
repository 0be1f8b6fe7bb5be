"""Backend set-up from Blender: show the backend's hello; create its environment."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import bpy

from ..backend_client import BackendError, BackendProcess
from ..capture_setup import LOG_PATH, CaptureSetupError, addon_preferences, backend_paths, check_backend

HELLO_TIMEOUT = 120.0


class MASKHAND_OT_test_backend(bpy.types.Operator):
    """Start the backend and show what it reports (versions, device, model, MANO)"""

    bl_idname = "maskhand.test_backend"
    bl_label = "Test Backend"

    def execute(self, context):
        preferences = addon_preferences(context)
        try:
            folder, python = check_backend(preferences)
            backend = BackendProcess(python, folder, LOG_PATH)
            try:
                hello = backend.wait_for({"hello"}, HELLO_TIMEOUT)
            finally:
                backend.stop()
        except (CaptureSetupError, BackendError) as error:
            self.report({"ERROR"}, str(error))
            return {"CANCELLED"}
        if hello["type"] != "hello":
            self.report({"ERROR"}, f"the backend exited before saying hello; see its log '{LOG_PATH}'")
            return {"CANCELLED"}
        text = (f"backend {hello.get('backend_version')}, torch {hello.get('torch')}, device {hello.get('device')}, "
                f"model {hello.get('model') or hello.get('model_error')}, MANO {'found' if hello.get('mano_found') else 'not set'}")
        preferences.last_hello = text
        self.report({"INFO"}, text)
        return {"FINISHED"}


def last_line(path: Path) -> str:
    """The last line of a log, for a one-line progress display."""
    try:
        with open(path, "rb") as file:
            file.seek(max(0, file.seek(0, 2) - 400))
            lines = file.read().decode("utf-8", "replace").strip().splitlines()
    except OSError:
        return ""
    return lines[-1][:120] if lines else ""


class MASKHAND_OT_create_environment(bpy.types.Operator):
    """Create the backend's Python environment (a venv in the MaskHand folder with torch, MediaPipe, ONNX Runtime)"""

    bl_idname = "maskhand.create_environment"
    bl_label = "Create Backend Environment"

    def invoke(self, context, event):
        preferences = addon_preferences(context)
        folder, _ = backend_paths(preferences)
        bootstrap = Path(folder) / "tools" / "bootstrap.py" if folder else None
        if bootstrap is None or not bootstrap.is_file():
            self.report({"ERROR"}, f"MaskHand folder '{folder}' has no tools/bootstrap.py: set Backend Folder to the "
                                   "MaskHand folder first")
            return {"CANCELLED"}
        LOG_PATH.parent.mkdir(parents=True, exist_ok=True)
        self.log = open(LOG_PATH, "ab")
        # Blender's own Python runs the (standard-library only) bootstrap; packages go into the new venv only.
        self.process = subprocess.Popen([sys.executable, str(bootstrap), "--backend-only"], cwd=folder,
                                        stdout=self.log, stderr=subprocess.STDOUT)
        self.timer = context.window_manager.event_timer_add(0.5, window=context.window)
        context.window_manager.modal_handler_add(self)
        preferences.environment_status = f"creating (log: {LOG_PATH})"
        return {"RUNNING_MODAL"}

    def modal(self, context, event):
        if event.type != "TIMER":
            return {"PASS_THROUGH"}
        if self.process.poll() is None:
            addon_preferences(context).environment_status = f"creating: {last_line(LOG_PATH)}"
            return {"PASS_THROUGH"}
        context.window_manager.event_timer_remove(self.timer)
        self.log.close()
        preferences = addon_preferences(context)
        if self.process.returncode != 0:
            preferences.environment_status = f"failed (exit {self.process.returncode}); see '{LOG_PATH}'"
            self.report({"ERROR"}, f"creating the backend environment failed; see its log '{LOG_PATH}'")
            return {"CANCELLED"}
        preferences.environment_status = "ready"
        preferences.backend_python = ""  # back to the folder's .venv
        self.report({"INFO"}, "backend environment ready")
        return {"FINISHED"}


classes = (MASKHAND_OT_test_backend, MASKHAND_OT_create_environment)
