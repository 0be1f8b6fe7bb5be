"""Capture: run a backend job without blocking Blender, then key the result (one undo step); import a saved
result; key a further track of the last capture."""
from __future__ import annotations

import bpy
from bpy_extras.io_utils import ImportHelper

from ...blender.capture_apply import apply_capture, capture_plan, key_further_track
from ...blender.settings import addon_preferences, check_settings, panel_request
from ..reports import report_outcome
from ..session import BackendJobOperator, BackendSession


def capture_session(context) -> BackendSession:
    """The panel's capture: settings checked and fixed now (edits during the job do not change it), then started."""
    settings = context.scene.maskhand
    check_settings(settings)
    plan = capture_plan(settings)
    request = panel_request(settings, addon_preferences(context))
    return BackendSession(context, request, lambda ctx, path: apply_capture(ctx, plan, path, request))


class MASKHAND_OT_capture(BackendJobOperator):
    """Capture hand motion from the footage and key it onto the target rig"""

    bl_idname = "maskhand.capture"
    bl_label = "Capture"
    start_session = staticmethod(capture_session)


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
        return report_outcome(self, lambda: "MaskHand: " + apply_capture(
            context, capture_plan(context.scene.maskhand), self.filepath))


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
        return report_outcome(self, lambda: "MaskHand: " + key_further_track(context, context.scene.maskhand))


classes = (MASKHAND_OT_capture, MASKHAND_OT_cancel_capture, MASKHAND_OT_import_result, MASKHAND_OT_key_track)
