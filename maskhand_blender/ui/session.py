"""A backend job from the interface: the session that runs it step by step, and the modal operator over it that
Capture and Re-sample Span share (the UI stays live, Esc cancels, one report at the end)."""
from __future__ import annotations

import bpy

from ..blender.backend_process import LOG_PATH, remember_hello, start_backend
from ..blender.settings import addon_preferences
from ..core.backend_client import CaptureJob
from .reports import USER_ERRORS, report_outcome

TIMER_SECONDS = 0.1


class BackendSession:
    """One backend job from its request to the changed scene, driven step by step (by a modal operator's timer,
    or by a test's loop). ``apply(context, result_path) -> summary`` changes the scene, and runs only when the
    job succeeded."""

    def __init__(self, context, request: dict, apply, what: str = "capture", differing_hypotheses: bool = False):
        backend = start_backend(addon_preferences(context))
        self.apply, self.what, self.scene_name = apply, what, context.scene.name
        self.job = CaptureJob(backend, request, differing_hypotheses=differing_hypotheses)
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
            if message["type"] == "hello":
                remember_hello(addon_preferences(context), message)
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
        except USER_ERRORS as error:
            return "ERROR", f"{self.what} could not be keyed: {error}", "CANCELLED"
        return "INFO", f"MaskHand: {summary}", "FINISHED"


_LIVE: set = set()  # sessions whose backend is running


def stop_live_sessions() -> None:
    for session in list(_LIVE):
        session.abandon()


class BackendJobOperator(bpy.types.Operator):
    """A modal operator over a ``BackendSession``: the UI stays live, Esc cancels, one report at the end.
    Subclasses set ``start_session(context) -> BackendSession``."""

    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def poll(cls, context):
        return not context.window_manager.maskhand_job.running

    def invoke(self, context, event):
        def start():
            self.session = self.start_session(context)
            self.timer = context.window_manager.event_timer_add(TIMER_SECONDS, window=context.window)
            context.window_manager.modal_handler_add(self)

        return report_outcome(self, start, success={"RUNNING_MODAL"})

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
