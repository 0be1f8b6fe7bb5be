"""Run by tests/test_blender_retarget.py: key random MANO poses onto three rigs, compare bone directions with FK.

Rigs: the built-in hand (Add MaskHand Hand), a Rigify rig generated from Blender's human metarig,
and a Mixamo-named rig with curled, rolled rest fingers built here. For every mapped finger bone
(and the deform bone that follows it on Rigify) the evaluated world-space direction is compared
with the hand model's FK direction. Prints one JSON line: the worst angle per rig, in degrees.
"""
import sys

import bpy
import numpy as np
from mathutils import Vector

import addon_utils  # importable once bpy is

from addon import install, report, submodule

install(sys.argv[1])
solve = submodule("core.retarget")
rotations = submodule("core.rotations")
presets = submodule("core.bone_maps")
apply = submodule("blender.keying")
hand_data = submodule("core.hand_data")
rig_module = submodule("blender.rig")
result_file = submodule("core.result_file")

FRAMES = 24
rng = np.random.default_rng(11)


def random_poses(side):
    """Plausible hand poses: fingers flexing (about the model's finger-bend axis) with some spread and twist."""
    pose = rng.normal(0, 0.25, (FRAMES, 16, 3))
    pose[:, 1:13, 2] += rng.uniform(0, 1.4, (FRAMES, 12)) * (1 if side == "right" else -1)
    pose[:, 0] = rng.normal(0, 0.8, (FRAMES, 3))
    return pose


def capture_for(side, pose):
    return result_file.HandCapture(side, np.arange(FRAMES), np.ones(FRAMES, bool), pose, np.zeros((FRAMES, 3)),
                                   rng.uniform(0, 20, (FRAMES, 16)), np.zeros((FRAMES, 21, 2)), np.ones(FRAMES))


def worst_angle(rig, side, pose, bone_map, follow=lambda name: name):
    """Key the poses, then per frame compare each mapped finger bone's evaluated direction with FK."""
    bpy.context.scene.frame_start = 1
    rest = hand_data.load_hand_rest(side)
    hand = capture_for(side, pose)
    scene = bpy.context.scene
    frames = apply.scene_mapping(scene, scene.render.fps / scene.render.fps_base, 0).to_scene(hand.frames)  # a key a frame
    summary = apply.key_hand(rig, hand, bone_map, rest, frames, "test", key_location=bone_map.key_wrist)
    summary["writer"].assign(rig)
    names = bone_map.bone_names(side)
    armature = apply.armature_rest(rig)
    to_armature = solve.model_to_armature(rest, armature, {j: armature.names.index(n) for j, n in names.items()})
    world = solve.world_rotations(pose, rest.parents)
    if not bone_map.key_wrist:
        world = np.swapaxes(world[:, :1], -1, -2) @ world
    expected = (to_armature @ world @ rest.bone_directions()[:, :, None])[..., 0]   # armature space
    worst = 0.0
    for n, frame in enumerate(frames):
        bpy.context.scene.frame_set(int(round(frame)))
        object_rotation = np.array(rig.matrix_world.to_3x3())
        for joint, name in names.items():
            if joint == 0:
                continue
            bone = rig.pose.bones[follow(name)]
            direction = np.array(rig.matrix_world @ bone.tail) - np.array(rig.matrix_world @ bone.head)
            target = object_rotation @ expected[n, joint]
            cosine = direction @ target / np.linalg.norm(direction) / np.linalg.norm(target)
            worst = max(worst, float(np.degrees(np.arccos(np.clip(cosine, -1, 1)))))
    return worst


def builtin_rig():
    bpy.ops.wm.read_homefile(use_factory_startup=True)
    rig = rig_module.add_hand(bpy.context, "right")
    return worst_angle(rig, "right", random_poses("right"), presets.builtin_preset("builtin"))


def rigify_rig():
    bpy.ops.wm.read_homefile(use_factory_startup=True)
    addon_utils.enable("rigify", default_set=True)
    bpy.ops.object.armature_human_metarig_add()
    bpy.ops.pose.rigify_generate()
    rig = bpy.context.view_layer.objects.active
    bone_map = presets.builtin_preset("rigify")
    results = {}
    for side in ("right", "left"):
        pose = random_poses(side)
        results[f"{side}_controls"] = worst_angle(rig, side, pose, bone_map)
        results[f"{side}_deform"] = worst_angle(rig, side, pose, bone_map, follow=lambda name: f"DEF-{name}")
    return results


def mixamo_rig():
    """A Mixamo-named right arm + hand: Y-up, hand along -X, fingers curled and rolled at rest."""
    bpy.ops.wm.read_homefile(use_factory_startup=True)
    rest = hand_data.load_hand_rest("right")
    curl = rng.normal(0, 0.15, (16, 3))
    curl[1:13, 2] += 0.5                                # fingers bent 30 degrees at rest
    world = solve.world_rotations(curl[None], rest.parents)[0]
    points = rest.points.copy()
    for joint in range(16):                              # FK of the curled rest, parents first
        for child in [c for c in range(16) if rest.parents[c] == joint] + [rest.bone_end_point[joint]]:
            points[child] = points[joint] + world[joint] @ (rest.points[child] - rest.points[joint])
    turn = rotations.axis_angle_to_matrix(np.array([0.3, -1.2, 0.5]))
    points = points @ turn.T + np.array([0.4, 0.1, 1.4])
    armature = bpy.data.armatures.new("Mixamo")
    rig = bpy.data.objects.new("Mixamo", armature)
    bpy.context.collection.objects.link(rig)
    rig.rotation_euler = (1.5708, 0, 0)                 # Mixamo files come in Y-up
    bpy.context.view_layer.objects.active = rig
    bpy.ops.object.mode_set(mode="EDIT")
    forearm = armature.edit_bones.new("mixamorig:RightForeArm")
    forearm.head, forearm.tail = Vector(points[0] + (0.25, 0, 0)), Vector(points[0])
    bone_map = presets.builtin_preset("mixamo")
    names = bone_map.bone_names("right")
    for joint in range(16):
        edit = armature.edit_bones.new(names[joint])
        edit.head, edit.tail = Vector(points[joint]), Vector(points[rest.bone_end_point[joint]])
        edit.roll = float(rng.uniform(-3, 3))
        edit.parent = forearm if joint == 0 else armature.edit_bones[names[rest.parents[joint]]]
    bpy.ops.object.mode_set(mode="OBJECT")
    return worst_angle(rig, "right", random_poses("right"), bone_map)


report({"builtin": builtin_rig(), "rigify": rigify_rig(), "mixamo": mixamo_rig()})
