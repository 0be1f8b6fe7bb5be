"""Cleanup operators: find spans, jump, select, smooth, fill gaps, re-sample, delete. Each is one undo step with
one report."""
from __future__ import annotations

import bpy
import numpy as np

from ...blender.curves import HandCurves, NoCaptureError
from ...blender.keyframes import curve_keys
from ...blender.resample import resample_request
from ...core.filters import SURE_WEIGHT, confidence_weights, fill_gaps, smooth_quaternions
from ..display import captured_armature, refresh_spans
from ..session import BackendJobOperator, BackendSession


def bones_text(bones) -> str:
    bones = list(bones)
    return ", ".join(bones[:4]) + (f" and {len(bones) - 4} more" if len(bones) > 4 else "")


def scope_mask(context, frames: np.ndarray) -> np.ndarray:
    """(N,) bool: the frames inside the span(s) the operator acts on."""
    cleanup = context.scene.maskhand_cleanup
    spans = list(cleanup.spans)
    if cleanup.scope == "ACTIVE":
        spans = spans[cleanup.active_span:cleanup.active_span + 1]
    inside = np.zeros(len(frames), bool)
    for span in spans:
        inside |= (frames >= span.frame_start - 1e-3) & (frames <= span.frame_end + 1e-3)
    return inside


class CleanupOperator(bpy.types.Operator):
    """Shared: find the capture, refresh the spans, run ``clean``, report what changed."""

    bl_options = {"REGISTER", "UNDO"}

    def execute(self, context):
        try:
            curves = HandCurves.of(captured_armature(context))
        except NoCaptureError as error:
            self.report({"ERROR"}, str(error))
            return {"CANCELLED"}
        if not refresh_spans(context):
            self.report({"INFO"}, "no frame is above the uncertainty threshold; nothing to do")
            return {"CANCELLED"}
        frames, found = curves.grid()
        inside = scope_mask(context, frames)
        if not inside.any():
            self.report({"WARNING"}, "no span selected: pick one in the list, or act on all spans")
            return {"CANCELLED"}
        message = self.clean(context, curves, frames, found, inside)
        refresh_spans(context)
        self.report({"INFO"}, message)
        return {"FINISHED"}

    def unsure_frames(self, context, curves, frames, found, inside) -> np.ndarray:
        bones, uncertainty = curves.uncertainty_at(frames, found)
        return inside & (~found | (uncertainty.max(1) > context.scene.maskhand_cleanup.threshold))


class MASKHAND_OT_select_unsure_keys(CleanupOperator):
    """Select the keys of unsure frames (so the Graph Editor's own tools act on them)"""

    bl_idname = "maskhand.select_unsure_keys"
    bl_label = "Select Unsure Keys"

    def clean(self, context, curves, frames, found, inside):
        unsure = frames[self.unsure_frames(context, curves, frames, found, inside)]
        count = 0
        for bone_curves in curves.rotations.values():
            for curve in bone_curves:
                keyed, _ = curve_keys(curve)
                selected = np.isin(np.round(keyed, 3), np.round(unsure, 3))
                for name in ("select_control_point", "select_left_handle", "select_right_handle"):
                    curve.keyframe_points.foreach_set(name, selected)
                curve.select = bool(selected.any())
                count += int(selected.sum())
        return f"selected {count} keys on {len(unsure)} unsure frames of {bones_text(curves.rotations)}"


class MASKHAND_OT_smooth_unsure(CleanupOperator):
    """Pull unsure frames towards their sure neighbours (confidence-weighted, in quaternion space); sure frames stay"""

    bl_idname = "maskhand.smooth_unsure"
    bl_label = "Smooth Unsure"

    def clean(self, context, curves, frames, found, inside):
        cleanup = context.scene.maskhand_cleanup
        changed_bones, changed_frames = [], set()
        for bone in curves.rotations:
            keyed, quaternions = curves.quaternions(bone)
            curve = curves.uncertainty.get(bone)
            uncertainty = np.array([curve.evaluate(f) for f in keyed]) if curve else np.zeros(len(keyed))
            weights = confidence_weights(uncertainty, cleanup.threshold)
            in_scope = np.isin(np.round(keyed, 3), np.round(frames[inside], 3))
            weights[~in_scope] = SURE_WEIGHT
            if (weights >= SURE_WEIGHT).all():
                continue
            curves.set_quaternions(bone, keyed, smooth_quaternions(quaternions, weights, cleanup.smooth_strength))
            changed_bones.append(bone)
            changed_frames.update(keyed[weights < SURE_WEIGHT].tolist())
        return f"smoothed {len(changed_frames)} unsure frames on {len(changed_bones)} bones: {bones_text(changed_bones)}"


class MASKHAND_OT_fill_gaps(CleanupOperator):
    """Key the frames where no hand was found, interpolating between the sure neighbours"""

    bl_idname = "maskhand.fill_gaps"
    bl_label = "Fill Gaps"

    def clean(self, context, curves, frames, found, inside):
        gaps = frames[inside & ~found]
        if len(gaps) == 0:
            return "no frames without a hand in the chosen span(s)"
        for bone in curves.rotations:
            keyed, quaternions = curves.quaternions(bone)
            new = np.setdiff1d(np.round(gaps, 3), np.round(keyed, 3))
            every = np.concatenate([keyed, new])
            order = np.argsort(every)
            values = np.concatenate([quaternions, np.zeros((len(new), 4))])[order]
            known = np.concatenate([np.ones(len(keyed), bool), np.zeros(len(new), bool)])[order]
            curves.set_quaternions(bone, every[order], fill_gaps(every[order], values, known))
        return f"filled {len(gaps)} frames without a hand on {len(curves.rotations)} bones: {bones_text(curves.rotations)}"


class MASKHAND_OT_delete_unsure_keys(CleanupOperator):
    """Delete the rotation keys of unsure frames and let Blender interpolate across them"""

    bl_idname = "maskhand.delete_unsure_keys"
    bl_label = "Delete Unsure Keys"

    def clean(self, context, curves, frames, found, inside):
        unsure = np.round(frames[self.unsure_frames(context, curves, frames, found, inside)], 3)
        deleted, touched = 0, []
        for bone in curves.rotations:
            keyed, quaternions = curves.quaternions(bone)
            keep = ~np.isin(np.round(keyed, 3), unsure)
            if keep.all() or not keep.any():
                continue
            curves.set_quaternions(bone, keyed[keep], quaternions[keep])
            deleted += int((~keep).sum())
            touched.append(bone)
        return f"deleted {deleted} keys on {len(unsure)} unsure frames of {len(touched)} bones: {bones_text(touched)}"


def resample_session(context) -> BackendSession:
    """The selected span of the captured armature, captured again by the backend."""
    rig = captured_armature(context)
    HandCurves.of(rig)
    cleanup = context.scene.maskhand_cleanup
    if not cleanup.spans and not refresh_spans(context):  # keep the list the user picked the span from
        raise NoCaptureError("no frame is above the uncertainty threshold; nothing to re-sample")
    request, apply = resample_request(context, rig, cleanup.spans[cleanup.active_span])
    return BackendSession(context, request, apply, what="re-sample", differing_hypotheses=True)


class MASKHAND_OT_resample_span(BackendJobOperator):
    """Capture the selected span again with more samples and the temporal choice, replacing only its keys"""

    bl_idname = "maskhand.resample_span"
    bl_label = "Re-sample Span"
    start_session = staticmethod(resample_session)


class MASKHAND_OT_find_spans(bpy.types.Operator):
    """List the spans where the capture is unsure and mark them on the timeline"""

    bl_idname = "maskhand.find_spans"
    bl_label = "Find Unsure Spans"
    bl_options = {"REGISTER", "UNDO"}

    def execute(self, context):
        spans = refresh_spans(context)
        self.report({"INFO"}, f"{len(spans)} unsure spans above {context.scene.maskhand_cleanup.threshold:g} degrees")
        return {"FINISHED"}


class MASKHAND_OT_jump_to_span(bpy.types.Operator):
    """Go to the start of an unsure span"""

    bl_idname = "maskhand.jump_to_span"
    bl_label = "Jump to Span"

    index: bpy.props.IntProperty()

    def execute(self, context):
        cleanup = context.scene.maskhand_cleanup
        if not 0 <= self.index < len(cleanup.spans):
            return {"CANCELLED"}
        cleanup.active_span = self.index
        context.scene.frame_set(int(round(cleanup.spans[self.index].frame_start)))
        return {"FINISHED"}


classes = (MASKHAND_OT_find_spans, MASKHAND_OT_jump_to_span, MASKHAND_OT_select_unsure_keys,
           MASKHAND_OT_smooth_unsure, MASKHAND_OT_fill_gaps, MASKHAND_OT_resample_span,
           MASKHAND_OT_delete_unsure_keys)
