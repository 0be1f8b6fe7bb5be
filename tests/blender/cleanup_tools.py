"""Run by tests/test_blender_cleanup.py: the cleanup tools on a capture with known jitter, outliers and gaps.

A right built-in hand is keyed from a smooth synthetic capture into which noise is injected at
known frames (reported there with high uncertainty) and from which frames are dropped (no hand).
Prints one JSON line of measurements.
"""
import sys
from pathlib import Path

import bpy
import numpy as np

import addon_utils  # importable once bpy is
from addon import install, report, submodule

install(sys.argv[1])
out = Path(sys.argv[2])
rig_module = submodule("blender.rig")
result_file = submodule("core.result_file")
capture_import = submodule("blender.capture_import")
presets = submodule("core.bone_maps")
rotations = submodule("core.rotations")
curves_module = submodule("blender.curves")
keyframes = submodule("blender.keyframes")
display = submodule("ui.display")

FRAMES, NOISY, MISSING = 90, slice(20, 30), slice(50, 55)
rng = np.random.default_rng(5)
t = np.linspace(0, 1, FRAMES)[:, None, None]
phase = rng.uniform(0, 2 * np.pi, (1, 16, 3))
pose = 0.35 * np.sin(2 * np.pi * t + phase) + np.array([0, 0, 0.5]) * (np.arange(16) > 0)[None, :, None]
truth = pose.copy()
pose[NOISY] += rng.normal(0, 0.2, pose[NOISY].shape)
valid = np.ones(FRAMES, bool)
valid[MISSING] = False
uncertainty = np.full((FRAMES, 16), 5.0)
uncertainty[NOISY] = 40.0


def key_fresh_hand(name):
    rig = rig_module.add_hand(bpy.context, "right", name)
    hand = result_file.HandCapture("right", np.arange(FRAMES), valid, pose, np.zeros((FRAMES, 3)), uncertainty,
                                   np.zeros((FRAMES, 21, 2)), np.ones(FRAMES))
    capture = result_file.Capture(Path("known.npz"), 24.0, (640, 480), 12500.0, "test", {"right": hand})
    capture_import.import_capture(bpy.context, capture, {"right": capture_import.HandTarget(
        rig, presets.builtin_preset("builtin"))}, "known.mp4")
    for obj in bpy.context.view_layer.objects:
        obj.select_set(False)
    bpy.context.view_layer.objects.active = rig
    return rig


def angles_deg(a, b):
    relative = np.swapaxes(rotations.quaternion_to_matrix(a), -1, -2) @ rotations.quaternion_to_matrix(b)
    return np.degrees(np.arccos(np.clip((np.trace(relative, axis1=-2, axis2=-1) - 1) / 2, -1, 1)))


def jitter(quaternions):
    middle = quaternions[:-2] + quaternions[2:]
    return angles_deg(quaternions[1:-1], middle / np.linalg.norm(middle, axis=1, keepdims=True)).mean()


def bone_curves(rig):
    curves = curves_module.HandCurves.of(rig)
    return {bone: curves.quaternions(bone) for bone in curves.rotations}


results = {}
bpy.ops.wm.read_homefile(use_factory_startup=True)
scene = bpy.context.scene
scene.render.fps, scene.frame_start = 24, 1
cleanup = scene.maskhand_cleanup
rig = key_fresh_hand("Known")

# Seeing it: spans, markers and colours follow the threshold.
cleanup.threshold = 20.0
results["spans"] = [(s.frame_start, s.frame_end, s.bone, round(s.worst, 1)) for s in cleanup.spans]
results["markers"] = sorted((m.frame, m.name) for m in scene.timeline_markers)
cleanup.show_colours = True
scene.frame_set(1 + 25)
results["colour_unsure"] = list(rig.pose.bones["index2.R"].color.custom.normal)
mesh = next(child for child in rig.children if child.type == "MESH").data
rgba = np.zeros(4 * len(mesh.vertices), np.float32)
mesh.color_attributes[display.COLOUR_ATTRIBUTE].data.foreach_get("color", rgba)
results["mesh_red_share_unsure"] = float((rgba.reshape(-1, 4)[:, 0] > 0.9).mean())
scene.frame_set(1 + 5)
mesh.color_attributes[display.COLOUR_ATTRIBUTE].data.foreach_get("color", rgba)
results["mesh_red_share_sure"] = float((rgba.reshape(-1, 4)[:, 0] > 0.9).mean())
results["colour_sure"] = list(rig.pose.bones["index2.R"].color.custom.normal)
cleanup.threshold = 45.0
results["spans_at_45"] = [(s.frame_start, s.frame_end) for s in cleanup.spans]
results["markers_at_45"] = len([m for m in scene.timeline_markers if m.name.startswith(display.MARKER_PREFIX)])
scene.frame_set(1 + 25)
results["colour_unsure_at_45"] = list(rig.pose.bones["index2.R"].color.custom.normal)
cleanup.threshold = 20.0
results["graph_groups"] = sorted({c.group.name for c in curves_module.channelbag_of(rig).fcurves
                                  if 'maskhand_uncertainty' in c.data_path})[:3]

# Smooth every span: jitter on the noisy span halves, sure frames barely move.
before = bone_curves(rig)
cleanup.scope = "ALL"
results["smooth"] = sorted(bpy.ops.maskhand.smooth_unsure())
after = bone_curves(rig)
drops, sure_change = [], 0.0
for bone, (frames, q_before) in before.items():
    _, q_after = after[bone]
    noisy = (frames >= 1 + NOISY.start - 1) & (frames <= 1 + NOISY.stop)
    drops.append(jitter(q_after[noisy]) / max(jitter(q_before[noisy]), 1e-9))
    sure = ~((frames >= 1 + NOISY.start) & (frames < 1 + NOISY.stop))
    sure_change = max(sure_change, float(angles_deg(q_after[sure], q_before[sure]).max()))
results["jitter_ratio_worst"] = float(max(drops))
results["sure_change_max_deg"] = sure_change

# Fill the gap where no hand was found.
results["fill"] = sorted(bpy.ops.maskhand.fill_gaps())
filled = bone_curves(rig)
frames, quaternions = filled["index2.R"]
gap = np.arange(1 + MISSING.start, 1 + MISSING.stop)
results["gap_frames_keyed"] = bool(np.isin(gap, frames).all())
steps = angles_deg(quaternions[1:], quaternions[:-1])
around = (frames[1:] >= gap[0] - 1) & (frames[1:] <= gap[-1] + 1)
results["gap_step_max_deg"] = float(steps[around].max())
results["typical_step_max_deg"] = float(steps[frames[1:] < 1 + NOISY.start].max())

# Select keys of unsure frames: every rotation curve, only those frames.
cleanup.threshold = 20.0
bpy.ops.maskhand.find_spans()
results["select"] = sorted(bpy.ops.maskhand.select_unsure_keys())
curve = curves_module.HandCurves.of(rig).rotations["index2.R"][0]
selected = np.zeros(len(curve.keyframe_points), bool)
curve.keyframe_points.foreach_get("select_control_point", selected)
keyed, _ = keyframes.curve_keys(curve)
results["selected_frames"] = keyed[selected].tolist()

# Delete the unsure keys of one span only, on a fresh capture: the other span is untouched.
rig2 = key_fresh_hand("Known2")
bpy.ops.maskhand.find_spans()
cleanup.scope, cleanup.active_span = "ACTIVE", 0
before = bone_curves(rig2)
results["delete"] = sorted(bpy.ops.maskhand.delete_unsure_keys())
after = bone_curves(rig2)
results["deleted_frames"] = sorted(set(before["index2.R"][0].tolist()) - set(after["index2.R"][0].tolist()))

# Export through Blender's own exporters: the rig animation, without the uncertainty channels.
addon_utils.enable("io_scene_fbx", default_set=True)
addon_utils.enable("io_anim_bvh", default_set=True)
for obj in bpy.context.view_layer.objects:
    obj.select_set(obj == rig)
bpy.context.view_layer.objects.active = rig
fbx, bvh = out / "hand.fbx", out / "hand.bvh"
results["fbx"] = sorted(bpy.ops.export_scene.fbx(filepath=str(fbx), use_selection=True, object_types={"ARMATURE"},
                                                  bake_anim=True, add_leaf_bones=False))
results["bvh"] = sorted(bpy.ops.export_anim.bvh(filepath=str(bvh), frame_start=1, frame_end=FRAMES))
results["fbx_has_uncertainty"] = b"maskhand" in fbx.read_bytes()
text = bvh.read_text()
results["bvh_joints"] = text.count("JOINT") + text.count("ROOT")
results["bvh_frames"] = int(text.split("Frames:")[1].split()[0])
results["bvh_has_uncertainty"] = "maskhand" in text
report(results)
