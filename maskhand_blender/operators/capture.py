"""Capture: run a backend job without blocking Blender, then key the result (one undo step)."""
from __future__ import annotations

import bpy
from bpy_extras.io_utils import ImportHelper

from ..backend_client import BackendError, BackendProcess, CaptureJob
from ..capture_setup import (LOG_PATH, CaptureSetupError, addon_preferences, apply_capture, capture_plan,
                             capture_request, check_backend, check_settings, key_further_track)
from ..cleanup.curves import NoCaptureError
from ..result_file import ResultFileError
from ..retarget.solve import RetargetError

TIMER_SECONDS = 0.1


class BackendSession:
    """One backend job from its request to the changed scene, driven step by step (by a modal operator's timer,
    or by a test's loop). ``apply(context, result_path) -> summary`` changes the scene, and runs only when the
    job succeeded."""

    def __init__(self, context, request: dict, apply, what: str = "capture"):
        folder, python = check_backend(addon_preferences(context))
        self.apply, self.what, self.scene_name = apply, what, context.scene.name
        self.job = CaptureJob(BackendProcess(python, folder, LOG_PATH), request)
        state = context.window_manager.maskhand_job
        state.running, state.cancel_requested, state.progress, state.stage = True, False, 0.0, "starting"
        context.scene.maskhand.log_path = str(LOG_PATH)
        _LIVE.add(self)

    def step(self, context) -> bool:
        """Take what the backend said; True once the job has ended."""
        state = context.window_manager.maskhand_job
        if state.cancel_requested:
            state.cancel_requested = False
            self.job.cancel()
        for message in self.job.backend.drain():
            self.job.handle(message)
        self.job.check_silence()
        state.progress, state.stage = 100 * self.job.fraction, self.job.stage
        return self.job.finished

    def abandon(self, context=None) -> None:
        """Stop the backend without applying anything (the operator was aborted, the add-on disabled)."""
        self.job.cancel()
        self.job.backend.kill()
        self.job.backend.stop()
        _LIVE.discard(self)
        if context is not None:
            context.window_manager.maskhand_job.running = False

    def finish(self, context) -> tuple:
        """Stop the backend; apply the result if the job succeeded. -> (report level, message, operator result)."""
        self.job.backend.stop()
        _LIVE.discard(self)
        context.window_manager.maskhand_job.running = False
        scene = bpy.data.scenes.get(self.scene_name)
        if scene is None:
            return "ERROR", f"{self.what} finished, but scene '{self.scene_name}' is gone; nothing was keyed", "CANCELLED"
        scene.maskhand.last_warnings = "; ".join(self.job.warnings)
        if self.job.state == "cancelled":
            return "WARNING", f"{self.what} cancelled; the scene is unchanged", "CANCELLED"
        if self.job.state == "failed":
            return "ERROR", f"{self.what} failed: {self.job.error}", "CANCELLED"
        try:
            summary = self.apply(context, self.job.done["result"])
        except (ResultFileError, RetargetError, CaptureSetupError, NoCaptureError) as error:
            return "ERROR", f"{self.what} could not be keyed: {error}", "CANCELLED"
        return "INFO", f"MaskHand: {summary}", "FINISHED"


_LIVE: set = set()  # sessions whose backend is running


def stop_live_sessions() -> None:
    for session in list(_LIVE):
        session.abandon()


def capture_session(context) -> BackendSession:
    """The panel's capture: settings checked and fixed now (edits during the job do not change it), then started."""
    settings = context.scene.maskhand
    check_settings(context, settings)
    plan = capture_plan(context, settings)
    request = capture_request(context, settings, addon_preferences(context))
    return BackendSession(context, request, lambda ctx, path: apply_capture(ctx, plan, path, request))


class BackendJobOperator(bpy.types.Operator):
    """A modal operator over a ``BackendSession``: the UI stays live, Esc cancels, one report at the end."""

    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def poll(cls, context):
        return not context.window_manager.maskhand_job.running

    def invoke(self, context, event):
        try:
            self.session = self.make_session(context)
        except (CaptureSetupError, BackendError, NoCaptureError) as error:
            self.report({"ERROR"}, str(error))
            return {"CANCELLED"}
        self.timer = context.window_manager.event_timer_add(TIMER_SECONDS, window=context.window)
        context.window_manager.modal_handler_add(self)
        return {"RUNNING_MODAL"}

    def modal(self, context, event):
        state = context.window_manager.maskhand_job
        if event.type == "ESC":
            state.cancel_requested = True
        if event.type != "TIMER":
            return {"PASS_THROUGH"}
        finished = self.session.step(context)
        context.workspace.status_text_set(f"MaskHand: {state.stage} {state.progress:.0f} % (Esc to cancel)")
        for area in context.screen.areas if context.screen else ():
            if area.type == "VIEW_3D":
                area.tag_redraw()
        if not finished:
            return {"RUNNING_MODAL"}
        context.window_manager.event_timer_remove(self.timer)
        context.workspace.status_text_set(None)
        level, message, result = self.session.finish(context)
        self.report({level}, message)
        return {result}

    def cancel(self, context):
        """Blender aborts the modal operator (a file is opened, the window closes): leave nothing running."""
        context.window_manager.event_timer_remove(self.timer)
        if context.workspace:
            context.workspace.status_text_set(None)
        self.session.abandon(context)


class MASKHAND_OT_capture(BackendJobOperator):
    """Capture hand motion from the footage and key it onto the target rig"""

    bl_idname = "maskhand.capture"
    bl_label = "Capture"

    def make_session(self, context):
        return capture_session(context)


class MASKHAND_OT_cancel_capture(bpy.types.Operator):
    """Stop the running capture; the scene stays as it was"""

    bl_idname = "maskhand.cancel_capture"
    bl_label = "Cancel"

    @classmethod
    def poll(cls, context):
        return context.window_manager.maskhand_job.running

    def execute(self, context):
        context.window_manager.maskhand_job.cancel_requested = True
        return {"FINISHED"}


class MASKHAND_OT_import_result(bpy.types.Operator, ImportHelper):
    """Key a saved capture result (.npz) onto the target rig"""

    bl_idname = "maskhand.import_result"
    bl_label = "Import Capture Result"
    bl_options = {"REGISTER", "UNDO"}

    filter_glob: bpy.props.StringProperty(default="*.npz", options={"HIDDEN"})

    def execute(self, context):
        try:
            summary = apply_capture(context, capture_plan(context, context.scene.maskhand), self.filepath)
        except (ResultFileError, RetargetError, CaptureSetupError) as error:
            self.report({"ERROR"}, str(error))
            return {"CANCELLED"}
        self.report({"INFO"}, f"MaskHand: {summary}")
        return {"FINISHED"}


class MASKHAND_OT_key_track(bpy.types.Operator):
    """Key the track chosen under Last Capture onto the Track Target as a new action (with the MaskHand Hand preset
    and no target, onto a new hand)"""

    bl_idname = "maskhand.key_track"
    bl_label = "Key Track"
    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def poll(cls, context):
        return not context.window_manager.maskhand_job.running

    def execute(self, context):
        try:
            summary = key_further_track(context, context.scene.maskhand)
        except (ResultFileError, RetargetError, CaptureSetupError) as error:
            self.report({"ERROR"}, str(error))
            return {"CANCELLED"}
        self.report({"INFO"}, f"MaskHand: {summary}")
        return {"FINISHED"}


classes = (MASKHAND_OT_capture, MASKHAND_OT_cancel_capture, MASKHAND_OT_import_result, MASKHAND_OT_key_track)
