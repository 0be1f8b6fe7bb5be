"""Backend set-up from Blender: show the backend's hello; create its environment."""
from __future__ import annotations

import bpy

from ..backend_client import BackendError, BackendProcess
from ..backend_environment import ENVIRONMENT_LOG, EnvironmentJob, backend_paths
from ..capture_setup import LOG_PATH, CaptureSetupError, addon_preferences, check_backend

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


class MASKHAND_OT_create_environment(bpy.types.Operator):
    """Create the backend's Python environment (torch, ONNX Runtime, OpenCV from the package index) in the
    extension's user folder, with Blender's own Python or the Environment Python; Blender's packages stay as they are"""

    bl_idname = "maskhand.create_environment"
    bl_label = "Create Backend Environment"

    def invoke(self, context, event):
        preferences = addon_preferences(context)
        folder, _ = backend_paths(preferences)
        interpreter = bpy.path.abspath(preferences.environment_python) if preferences.environment_python else ""
        try:
            self.job = EnvironmentJob(folder, interpreter)
        except (FileNotFoundError, OSError) as error:
            self.report({"ERROR"}, str(error))
            return {"CANCELLED"}
        self.timer = context.window_manager.event_timer_add(0.5, window=context.window)
        context.window_manager.modal_handler_add(self)
        preferences.environment_status = f"creating {self.job.target} (log: {ENVIRONMENT_LOG})"
        return {"RUNNING_MODAL"}

    def modal(self, context, event):
        if event.type != "TIMER":
            return {"PASS_THROUGH"}
        preferences = addon_preferences(context)
        outcome = self.job.poll()
        if outcome is None:
            preferences.environment_status = f"creating: {self.job.status()}"
            return {"PASS_THROUGH"}
        context.window_manager.event_timer_remove(self.timer)
        preferences.environment_status = outcome
        if outcome != "ready":
            self.report({"ERROR"}, f"creating the backend environment {outcome}")
            return {"CANCELLED"}
        preferences.backend_python = ""  # the environment just made
        self.report({"INFO"}, f"backend environment ready in {self.job.target}")
        return {"FINISHED"}

    def cancel(self, context):
        self.job.cancel()


classes = (MASKHAND_OT_test_backend, MASKHAND_OT_create_environment)
