"""Keying a hand onto an armature: the thin Blender layer of the retarget (read an armature's rest pose, key
a capture onto it), and the scene's frame mapping.

All math is in ``core.retarget`` (bpy-free); this module moves arrays between Blender and numpy and
writes one new action per hand through ``keyframes.ActionWriter``.
"""
from __future__ import annotations

import bpy
import numpy as np

from ..core.bone_maps import BoneMap
from ..core.frames import FrameMapping
from ..core.retarget import ArmatureRest, HandRest, RetargetError, retarget
from ..core.rotations import continuous_quaternions, matrix_to_quaternion
from .keyframes import ActionWriter
from .rig import CAMERA_TO_WORLD

UNCERTAINTY_PROPERTY = "maskhand_uncertainty"   # per pose bone, degrees
# Per armature object, 1 where the hand was found; named by track, so two tracks of one side keyed onto one
# armature keep their own flags.
DETECTED_PROPERTY = "maskhand_detected_{track}"


def armature_rest(rig: bpy.types.Object) -> ArmatureRest:
    """The armature's bones, parents first, with rest orientations and heads in armature space."""
    ordered = []

    def visit(bone):
        ordered.append(bone)
        for child in bone.children:
            visit(child)

    for bone in rig.data.bones:
        if bone.parent is None:
            visit(bone)
    index = {bone.name: i for i, bone in enumerate(ordered)}
    matrices = np.array([[list(row)[:3] for row in bone.matrix_local[:3]] for bone in ordered])
    heads = np.array([list(bone.head_local) for bone in ordered])
    parents = np.array([index[bone.parent.name] if bone.parent else -1 for bone in ordered])
    return ArmatureRest([bone.name for bone in ordered], parents, matrices, heads)


def scene_mapping(scene: bpy.types.Scene, footage_fps: float, footage_start: int) -> FrameMapping:
    """Footage frame ``footage_start`` on the scene's start frame, at the footage's and the scene's rates."""
    return FrameMapping(footage_start, scene.frame_start, footage_fps, scene.render.fps / scene.render.fps_base)


def hand_keys(rig: bpy.types.Object, hand, bone_map: BoneMap, rest: HandRest) -> dict:
    """{bone name: (quaternions (M, 4), uncertainty (M,))} for the M rows of ``hand`` where a hand was found."""
    names = bone_map.bone_names(hand.side)
    missing = sorted({name for name in names.values() if name not in rig.data.bones})
    if missing:
        raise RetargetError(f"armature '{rig.name}' has no bones {', '.join(missing[:4])}"
                            f"{' ...' if len(missing) > 4 else ''} that the '{bone_map.name}' map names for the "
                            f"{hand.side} hand: pick the preset that matches the rig, or edit a custom map")
    if not hand.valid.any():
        return {}
    armature = armature_rest(rig)
    bones = {joint: armature.names.index(name) for joint, name in names.items()}
    joint_of = {bone: joint for joint, bone in bones.items()}
    local = retarget(hand.pose[hand.valid], rest, armature, bones, key_wrist=bone_map.key_wrist)
    return {armature.names[bone]: (continuous_quaternions(matrix_to_quaternion(rotations)),
                                   hand.uncertainty[hand.valid, joint_of[bone]])
            for bone, rotations in local.items()}


def key_hand(rig: bpy.types.Object, hand, bone_map: BoneMap, rest: HandRest, frames: np.ndarray,
             action_name: str, key_location: bool = False) -> dict:
    """Key one hand of a capture onto ``rig`` as a new action; returns what was written.

    ``frames`` are the scene frames of the capture's rows; rows without a hand get no pose keys
    (Blender interpolates across them) and a 0 in the detected flag."""
    keys = hand_keys(rig, hand, bone_map, rest)
    valid = hand.valid
    writer = ActionWriter(action_name, rig)
    for name, (quaternions, uncertainty) in keys.items():
        pose_bone = rig.pose.bones[name]
        pose_bone.rotation_mode = "QUATERNION"
        path = f'pose.bones["{bpy.utils.escape_identifier(name)}"]'
        writer.add_vector(f"{path}.rotation_quaternion", frames[valid], quaternions, group=name)
        pose_bone[UNCERTAINTY_PROPERTY] = 0.0
        writer.add_curve(f'{path}["{UNCERTAINTY_PROPERTY}"]', 0, frames[valid], uncertainty, group=name)
    if key_location and valid.any():
        writer.add_vector("location", frames[valid], hand.cam_t[valid] @ CAMERA_TO_WORLD.T, group="Object Transforms")
    detected = DETECTED_PROPERTY.format(track=hand.name)
    rig[detected] = 0.0
    writer.add_curve(f'["{detected}"]', 0, frames, valid.astype(np.float32), group="MaskHand", interpolation="CONSTANT")
    return {"writer": writer, "bones": list(keys), "frames": int(valid.sum()), "missing_frames": int((~valid).sum())}
