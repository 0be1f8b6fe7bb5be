"""Keying a capture: the bulk writer against a per-key ``keyframe_insert`` loop, in real Blender (bpy).

    .venv/bin/python bench/bench_keyframes.py [--frames 1800]

A synthetic capture of FRAMES frames x 2 hands (random poses, every frame found) is keyed
onto two built-in hands. Bulk: the add-on's import (retarget math included; F-curves
written with keyframe_points.add + foreach_set through the slotted-actions API). Loop: the
same rotations, uncertainty and detected flag written one ``keyframe_insert`` at a time,
the way a naive importer does. Reported: seconds for each, their ratio, and whether the two
give the same pose at a few frames.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
RESULTS = REPO / "bench" / "results" / "keyframes.json"


def synthetic_capture(frames: int, rng):
    from maskhand_blender.core.result_file import Capture, HandCapture

    hands = {}
    for side in ("right", "left"):
        pose = rng.normal(0, 0.3, (frames, 16, 3))
        hands[side] = HandCapture(side, np.arange(frames), np.ones(frames, bool), pose, rng.normal(0, 0.05, (frames, 3)),
                                  rng.uniform(0, 30, (frames, 16)), np.zeros((frames, 21, 2)), np.ones(frames))
    return Capture(Path("bench.npz"), 30.0, (640, 480), 12500.0, "bench", hands)


def keyed_rotations(rig, frame: int) -> np.ndarray:
    import bpy

    bpy.context.scene.frame_set(frame)
    return np.array([list(bone.rotation_quaternion) for bone in rig.pose.bones])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=1800)
    args = parser.parse_args()

    import bpy

    import addon_utils  # importable once bpy is

    bpy.ops.wm.read_factory_settings(use_empty=True)
    addon_utils.enable("maskhand_blender", default_set=True)
    from maskhand_blender.blender.capture_import import HandTarget, import_capture
    from maskhand_blender.core.hand_data import load_hand_rest
    from maskhand_blender.blender.keying import UNCERTAINTY_PROPERTY, armature_rest, scene_mapping
    from maskhand_blender.core.bone_maps import builtin_preset
    from maskhand_blender.core.rotations import continuous_quaternions, matrix_to_quaternion
    from maskhand_blender.core.retarget import retarget
    from maskhand_blender.blender.rig import add_hand

    context = bpy.context
    context.scene.render.fps = 30
    capture = synthetic_capture(args.frames, np.random.default_rng(0))
    preset = builtin_preset("builtin")
    bulk_rigs = {side: add_hand(context, side, f"Bulk {side}") for side in ("right", "left")}
    loop_rigs = {side: add_hand(context, side, f"Loop {side}") for side in ("right", "left")}

    started = time.perf_counter()
    import_capture(context, capture, {side: HandTarget(rig, preset, standalone=True) for side, rig in bulk_rigs.items()},
                   "bench.mp4")
    bulk_seconds = time.perf_counter() - started

    started = time.perf_counter()
    for side, rig in loop_rigs.items():
        hand = capture.hands[side]
        frames = scene_mapping(context.scene, capture.fps, int(hand.frames[0])).to_scene(hand.frames)
        armature = armature_rest(rig)
        names = preset.bone_names(side)
        bones = {joint: armature.names.index(name) for joint, name in names.items()}
        local = retarget(hand.pose, load_hand_rest(side), armature, bones, key_wrist=True)
        quaternions = {bone: continuous_quaternions(matrix_to_quaternion(r)) for bone, r in local.items()}
        pose_bones = [(rig.pose.bones[armature.names[bone]], quaternions[bone], joint) for joint, bone in bones.items()]
        for pose_bone, _, _ in pose_bones:
            pose_bone[UNCERTAINTY_PROPERTY] = 0.0
        rig[f"maskhand_detected_{side}"] = 1.0
        for n, frame in enumerate(frames):
            for pose_bone, values, joint in pose_bones:
                pose_bone.rotation_quaternion = values[n]
                pose_bone.keyframe_insert("rotation_quaternion", frame=frame)
                pose_bone[UNCERTAINTY_PROPERTY] = hand.uncertainty[n, joint]
                pose_bone.keyframe_insert(f'["{UNCERTAINTY_PROPERTY}"]', frame=frame)
            rig.location = hand.cam_t[n] @ np.array([[1, 0, 0], [0, 0, -1], [0, 1, 0]])
            rig.keyframe_insert("location", frame=frame)
            rig.keyframe_insert(f'["maskhand_detected_{side}"]', frame=frame)
    loop_seconds = time.perf_counter() - started

    checks = [1, args.frames // 2, args.frames]
    difference = max(float(np.abs(keyed_rotations(bulk_rigs[side], f) - keyed_rotations(loop_rigs[side], f)).max())
                     for side in bulk_rigs for f in checks)
    figures = {"frames": args.frames, "hands": 2, "bulk_seconds": bulk_seconds, "loop_seconds": loop_seconds,
               "speedup": loop_seconds / bulk_seconds, "max_quaternion_difference": difference}
    print(f"{args.frames} frames x 2 hands: bulk {bulk_seconds:.3f} s, keyframe_insert loop {loop_seconds:.1f} s, "
          f"bulk is {figures['speedup']:.0f}x faster; same poses within {difference:.1e}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
