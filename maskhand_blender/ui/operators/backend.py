"""Backend set-up from Blender: show the backend's hello; create its environment."""
from __future__ import annotations

import bpy

from ...blender.backend_environment import ENVIRONMENT_LOG, EnvironmentJob, backend_paths
from ...blender.backend_process import LOG_PATH, remember_hello, start_backend
from ...blender.settings import addon_preferences, path_setting
from ...core.backend_client import BackendError
from ..reports import report_outcome

HELLO_TIMEOUT = 120.0


def backend_hello(preferences) -> str:
    """Start the backend, wait for its hello and keep what it says in the preferences; the hello as one line."""
    backend = start_backend(preferences)
    try:
        hello = backend.wait_for({"hello"}, HELLO_TIMEOUT)
    finally:
        backend.stop()
    if hello["type"] != "hello":
        raise BackendError(f"the backend exited before saying hello; see its log '{LOG_PATH}'")
    remember_hello(preferences, hello)
    preferences.last_hello = (
        f"backend {hello.get('backend_version')}, torch {hello.get('torch')}, device {hello.get('device')}, "
        f"model {hello.get('model') or hello.get('model_error')}, "
        f"MANO {'found' if hello.get('mano_found') else 'not set'}")
    return preferences.last_hello


class MASKHAND_OT_test_backend(bpy.types.Operator):
    """Start the backend and show what it reports (versions, device, model, MANO)"""

    bl_idname = "maskhand.test_backend"
    bl_label = "Test Backend"

    def execute(self, context):
        return report_outcome(self, lambda: backend_hello(addon_preferences(context)))


class MASKHAND_OT_create_environment(bpy.types.Operator):
    """Create the backend's Python environment (torch, ONNX Runtime, OpenCV from the package index) in the
    extension's user folder, with Blender's own Python or the Environment Python; Blender's packages stay as they are"""

    bl_idname = "maskhand.create_environment"
    bl_label = "Create Backend Environment"

    def invoke(self, context, event):
        preferences = addon_preferences(context)
        folder, _ = backend_paths(preferences)
        interpreter = path_setting(preferences.environment_python)

        def start():
            self.job = EnvironmentJob(folder, interpreter)
            self.timer = context.window_manager.event_timer_add(0.5, window=context.window)
            context.window_manager.modal_handler_add(self)
            preferences.environment_status = f"creating {self.job.target} (log: {ENVIRONMENT_LOG})"

        return report_outcome(self, start, errors=(OSError,), success={"RUNNING_MODAL"})

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
