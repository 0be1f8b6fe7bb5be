"""Add MaskHand Hand: the built-in MANO-layout hand as an armature with its skinned mesh.

Bones are named after the MANO joints with Blender's side suffix ("index1.R"), so the
built-in preset, mirroring tools and the retarget all find them. The armature is built in
the hand model's frame; captures give poses in the camera frame (OpenCV axes: x right,
y down, z forward), which ``CAMERA_TO_WORLD`` turns into Blender's Z-up world, looking
along +Y from the origin.
"""
from __future__ import annotations

import math

import bpy
import numpy as np

from ..core.hand_data import SIDES, hand_mesh, joint_names, load_hand_rest
from .compat import shader_nodes

SIDE_SUFFIX = {"right": "R", "left": "L"}
# OpenCV camera axes -> Blender world: x stays, depth (z) goes to +Y, down (y) goes to -Z.
CAMERA_TO_WORLD = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])
CAMERA_TO_WORLD_EULER = (-math.pi / 2, 0.0, 0.0)
PALM_NORMAL = (0.0, -1.0, 0.0)  # the hand model's palm faces -y (both sides: the mirror is in x)


def bone_name(joint: str, side: str) -> str:
    return f"{joint}.{SIDE_SUFFIX[side]}"


def add_hand(context: bpy.types.Context, side: str = "right", name: str | None = None) -> bpy.types.Object:
    """Build the armature and its mesh in the active collection; returns the armature object."""
    if side not in SIDES:
        raise ValueError(f"hand side must be one of {SIDES}, not {side!r}")
    rest = load_hand_rest(side)
    names = [bone_name(joint, side) for joint in joint_names()]
    name = name or f"MaskHand {side.capitalize()}"
    armature = bpy.data.armatures.new(name)
    armature.display_type = "OCTAHEDRAL"
    rig = bpy.data.objects.new(name, armature)
    rig.rotation_euler = CAMERA_TO_WORLD_EULER
    collection = context.collection
    collection.objects.link(rig)

    # Edit bones need edit mode on the active object; restore the user's mode and selection after.
    previous_active = context.view_layer.objects.active
    previous_mode = previous_active.mode if previous_active else "OBJECT"
    if previous_active and previous_mode != "OBJECT":
        bpy.ops.object.mode_set(mode="OBJECT")
    context.view_layer.objects.active = rig
    bpy.ops.object.mode_set(mode="EDIT")
    for joint, bone in enumerate(names):
        edit = armature.edit_bones.new(bone)
        edit.head = rest.points[joint].tolist()
        edit.tail = rest.points[rest.bone_end_point[joint]].tolist()
        edit.align_roll(PALM_NORMAL)  # every bone's Z axis out of the palm: finger bends are about X
        if rest.parents[joint] >= 0:
            edit.parent = armature.edit_bones[names[rest.parents[joint]]]
    bpy.ops.object.mode_set(mode="OBJECT")
    for pose_bone in rig.pose.bones:
        pose_bone.rotation_mode = "QUATERNION"

    vertices, faces, weights = hand_mesh(side)
    mesh = bpy.data.meshes.new(f"{name} Mesh")
    mesh.from_pydata(vertices.tolist(), [], faces.tolist())
    mesh.shade_smooth()
    skin = bpy.data.objects.new(f"{name} Mesh", mesh)
    collection.objects.link(skin)
    skin.parent = rig
    for joint, bone in enumerate(names):
        group = skin.vertex_groups.new(name=bone)
        for weight in np.unique(weights[:, joint][weights[:, joint] > 0]):
            group.add(np.flatnonzero(weights[:, joint] == weight).tolist(), float(weight), "REPLACE")
    skin.modifiers.new("Armature", "ARMATURE").object = rig
    material = bpy.data.materials.get("MaskHand Skin") or _skin_material()
    mesh.materials.append(material)

    context.view_layer.objects.active = previous_active if previous_active else rig
    if previous_active and previous_mode != "OBJECT":
        bpy.ops.object.mode_set(mode=previous_mode)
    return rig


def _skin_material() -> bpy.types.Material:
    material = bpy.data.materials.new("MaskHand Skin")
    material.diffuse_color = (0.62, 0.38, 0.28, 1.0)
    shader_nodes(material).nodes["Principled BSDF"].inputs["Base Color"].default_value = (0.62, 0.38, 0.28, 1.0)
    return material
