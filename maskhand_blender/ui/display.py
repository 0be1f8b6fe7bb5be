"""Seeing where the capture is unsure: the spans list, timeline markers and bone colours."""
from __future__ import annotations

import bpy
import numpy as np

from ..blender.curves import HandCurves, NoCaptureError
from ..blender.keying import UNCERTAINTY_PROPERTY
from ..core.spans import uncertain_spans

MARKER_PREFIX = "unsure "
COLOUR_ATTRIBUTE = "MaskHand Uncertainty"  # per-vertex colour of skinned meshes (Solid view: Attribute colour)
_saved_palettes: dict = {}  # (armature, bone) -> the palette the bone had before colouring
_weights_cache: dict = {}   # (mesh object, vertex count, group count) -> skin weights (V, G)


def captured_armature(context):
    """The armature to clean up: the active object when it holds a capture, else the capture target."""
    obj = context.active_object
    if obj is not None and obj.type == "ARMATURE" and obj.animation_data and obj.animation_data.action:
        return obj
    return context.scene.maskhand.target


def refresh_spans(context) -> list:
    """Recompute the spans of the armature being cleaned up, the panel's list and the timeline markers."""
    scene, cleanup = context.scene, context.scene.maskhand_cleanup
    cleanup.spans.clear()
    for marker in [m for m in scene.timeline_markers if m.name.startswith(MARKER_PREFIX)]:
        scene.timeline_markers.remove(marker)
    try:
        curves = HandCurves.of(captured_armature(context))
    except NoCaptureError:
        return []
    frames, found = curves.grid()
    bones, uncertainty = curves.uncertainty_at(frames, found)
    spans = uncertain_spans(uncertainty, found, cleanup.threshold)
    for span in spans:
        item = cleanup.spans.add()
        item.frame_start, item.frame_end = float(frames[span.start]), float(frames[span.end])
        item.bone = bones[span.worst_joint] if np.isfinite(span.worst) else "no hand"
        item.worst = span.worst if np.isfinite(span.worst) else -1.0
        label = f"{item.bone} {item.worst:.0f}°" if item.worst >= 0 else "no hand"
        scene.timeline_markers.new(f"{MARKER_PREFIX}{label}", frame=int(round(item.frame_start)))
    cleanup.active_span = min(cleanup.active_span, max(len(spans) - 1, 0))
    return spans


def uncertainty_colour(degrees: float, threshold: float) -> tuple:
    """Green (sure) through yellow (at the threshold) to red (twice the threshold and beyond)."""
    t = float(np.clip(degrees / (2 * threshold), 0.0, 1.0))
    return (min(1.0, 2 * t), min(1.0, 2 * (1 - t)), 0.1)


def colour_bones(scene) -> None:
    """Colour every captured bone of every armature in the scene by its uncertainty at the current frame."""
    cleanup = scene.maskhand_cleanup
    for obj in scene.objects:
        if obj.type != "ARMATURE" or obj.pose is None:
            continue
        for pose_bone in obj.pose.bones:
            if UNCERTAINTY_PROPERTY not in pose_bone:
                continue
            if cleanup.show_colours:
                colour = uncertainty_colour(float(pose_bone[UNCERTAINTY_PROPERTY]), cleanup.threshold)
                _saved_palettes.setdefault((obj.name, pose_bone.name), pose_bone.color.palette)
                pose_bone.color.palette = "CUSTOM"
                pose_bone.color.custom.normal = colour
                pose_bone.color.custom.select = tuple(min(1.0, c + 0.3) for c in colour)
                pose_bone.color.custom.active = (1.0, 1.0, 1.0)
            else:  # back to the rig's own colours
                pose_bone.color.palette = _saved_palettes.pop((obj.name, pose_bone.name), pose_bone.color.palette)
        if cleanup.show_colours:
            colour_meshes(obj, cleanup.threshold)


def colour_meshes(rig, threshold: float) -> None:
    """Blend the bone colours into each skinned child mesh by its skin weights, as a colour attribute."""
    colours = {bone.name: uncertainty_colour(float(bone[UNCERTAINTY_PROPERTY]), threshold)
               for bone in rig.pose.bones if UNCERTAINTY_PROPERTY in bone}
    for child in rig.children:
        if child.type != "MESH" or not any(m.type == "ARMATURE" and m.object == rig for m in child.modifiers):
            continue
        mesh = child.data
        weights = _skin_weights(child)
        palette = np.array([colours.get(group.name, (0.5, 0.5, 0.5)) for group in child.vertex_groups])
        total = np.maximum(weights.sum(1, keepdims=True), 1e-9)
        rgba = np.concatenate([weights @ palette / total, np.ones((len(mesh.vertices), 1))], 1)
        attribute = mesh.color_attributes.get(COLOUR_ATTRIBUTE) or mesh.color_attributes.new(
            COLOUR_ATTRIBUTE, "FLOAT_COLOR", "POINT")
        attribute.data.foreach_set("color", rgba.astype(np.float32).ravel())
        mesh.update()


def _skin_weights(child) -> np.ndarray:
    """(V, G) vertex-group weights of a mesh object, read once: colouring runs on every frame change."""
    mesh = child.data
    key = (child.name_full, len(mesh.vertices), len(child.vertex_groups))
    if key not in _weights_cache:
        weights = np.zeros(key[1:])
        for vertex in mesh.vertices:
            for group in vertex.groups:
                weights[vertex.index, group.group] = group.weight
        _weights_cache[key] = weights
    return _weights_cache[key]


@bpy.app.handlers.persistent
def on_frame_change(scene, depsgraph=None) -> None:
    if scene.maskhand_cleanup.show_colours:
        colour_bones(scene)


@bpy.app.handlers.persistent
def on_file_load(_file_path=None, _=None) -> None:
    """A file saved with colours on turns them on again."""
    _saved_palettes.clear()
    _weights_cache.clear()
    set_colour_handler(any(scene.maskhand_cleanup.show_colours for scene in bpy.data.scenes))


def set_colour_handler(enabled: bool) -> None:
    handlers = bpy.app.handlers.frame_change_post
    if enabled and on_frame_change not in handlers:
        handlers.append(on_frame_change)
    elif not enabled and on_frame_change in handlers:
        handlers.remove(on_frame_change)
