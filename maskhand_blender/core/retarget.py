"""Retarget MANO-convention hand poses onto an armature, matching world-space bone directions.

The capture gives, per frame, 16 local rotations of a hand whose rest pose is flat with every
joint frame aligned to the model frame. A rig's bones have their own rest orientations: any
roll, fingers maybe curled at rest, the hand turned any way in armature space. For each
mapped bone we therefore:

1. find the rotation ``C`` from the hand model's frame to armature space, from the rest
   layouts of both (wrist -> middle knuckle, pinky knuckle -> index knuckle);
2. build the bone's *flat-equivalent rest*: its rest orientation turned by the smallest
   rotation that points it the way the model's flat rest bone points (in armature space).
   This is the rest-pose compensation: a curled rest finger is straightened, and its roll kept;
3. target that frame turned by the joint's world rotation: ``T = C G C^T E``;
4. convert targets to Blender's local pose rotations, parent by parent:
   ``basis = (P_rest^T B_rest)^T P_pose^T T`` (the rotation part of ``matrix_basis``).

Bones the map leaves out (palm bones, a metarig's extras) keep their rest pose and pass their
parent's motion on, so a finger under an unmapped palm bone still ends up right.
Everything is numpy, frames vectorised; no Blender needed.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .rotations import axis_angle_to_matrix, frame_from_vectors, rotation_between

WRIST, INDEX1, MIDDLE1, PINKY1 = 0, 1, 4, 7
HAND_FRAME_JOINTS = (WRIST, INDEX1, MIDDLE1, PINKY1)  # what orients the hand; every bone map needs them


@dataclass
class HandRest:
    """The hand model's flat rest pose, in its model frame."""

    points: np.ndarray          # (21, 3) MANO order: 16 joints then 5 fingertips
    parents: np.ndarray         # (16,) parent joint, -1 for the wrist
    bone_end_point: np.ndarray  # (16,) index into ``points`` each joint's bone points at

    def bone_directions(self) -> np.ndarray:
        """(16, 3) unit rest directions of the joints' bones."""
        vectors = self.points[self.bone_end_point] - self.points[:16]
        return vectors / np.linalg.norm(vectors, axis=-1, keepdims=True)


@dataclass
class ArmatureRest:
    """An armature's rest pose in armature space, bones ordered parents first (as ``Armature.bones`` is)."""

    names: list
    parents: np.ndarray    # (B,) index of the parent bone, -1 for a root
    matrices: np.ndarray   # (B, 3, 3) rest orientation (columns: the bone's x, y (along the bone), z axes)
    heads: np.ndarray      # (B, 3)


class RetargetError(ValueError):
    """A bone map that does not fit the armature."""


def world_rotations(pose: np.ndarray, parents: np.ndarray) -> np.ndarray:
    """Local axis-angle poses (N, 16, 3) -> rotations of each joint in the model frame (N, 16, 3, 3)."""
    local = axis_angle_to_matrix(pose)
    world = np.empty_like(local)
    for joint, parent in enumerate(parents):
        world[:, joint] = local[:, joint] if parent < 0 else world[:, parent] @ local[:, joint]
    return world


def model_to_armature(hand: HandRest, armature: ArmatureRest, bones: dict) -> np.ndarray:
    """The rotation C (3, 3) taking the hand model's frame to armature space. ``bones``: joint -> bone index."""
    missing = [joint for joint in HAND_FRAME_JOINTS if joint not in bones]
    if missing:
        raise RetargetError(f"the bone map must name the wrist, index1, middle1 and pinky1 bones to orient the hand "
                            f"(missing joints {missing})")
    heads = {joint: armature.heads[bone] for joint, bone in bones.items()}
    rig = frame_from_vectors(heads[MIDDLE1] - heads[WRIST], heads[INDEX1] - heads[PINKY1])
    model = frame_from_vectors(hand.points[MIDDLE1] - hand.points[WRIST], hand.points[INDEX1] - hand.points[PINKY1])
    return rig @ model.T


def retarget(pose: np.ndarray, hand: HandRest, armature: ArmatureRest, bones: dict,
             key_wrist: bool = True) -> dict:
    """Poses (N, 16, 3) -> {bone index: local rotations (N, 3, 3)} for every bone that moves.

    ``bones`` maps joint index -> bone index. With ``key_wrist`` False the hand bone keeps its own
    animation (a character's arm places it) and the fingers move relative to it."""
    pose = np.asarray(pose, np.float64)
    to_armature = model_to_armature(hand, armature, bones)
    world = world_rotations(pose, hand.parents)                                   # (N, 16, 3, 3)
    if not key_wrist:
        world = np.swapaxes(world[:, :1], -1, -2) @ world                       # relative to the wrist
    directions = hand.bone_directions() @ to_armature.T                          # (16, 3) armature space
    targets = {}
    for joint, bone in bones.items():
        if joint == WRIST and not key_wrist:
            continue
        rest = armature.matrices[bone]
        flat_rest = rotation_between(rest[:, 1], directions[joint]) @ rest       # rest-pose compensation
        targets[bone] = to_armature @ world[:, joint] @ to_armature.T @ flat_rest
    posed = np.empty((len(armature.names), len(pose), 3, 3))
    local = {}
    for bone, parent in enumerate(armature.parents):
        rest = armature.matrices[bone]
        # Orientation at rest relative to the parent, and the parent's posed orientation.
        offset = rest if parent < 0 else armature.matrices[parent].T @ rest
        above = np.eye(3) if parent < 0 else posed[parent]
        if bone in targets:
            posed[bone] = targets[bone]
            local[bone] = offset.T @ np.swapaxes(above, -1, -2) @ targets[bone]
        else:
            posed[bone] = above @ offset
    return local
