"""The MANO hand layout every part shares: joints, parents, keypoint orders, mirroring.

Pure array code: every function takes numpy arrays or torch tensors and returns the same kind.

Pose convention (MANO's, with ``flat_hand_mean=True``): 16 local axis-angle rotations,
joint 0 being the global orientation, each relative to a rest pose in which every joint
frame is aligned with the model frame and the hand lies flat. A zero pose is the flat hand.
"""
from __future__ import annotations

NUM_JOINTS = 16
NUM_KEYPOINTS = 21

JOINT_NAMES = (
    "wrist",
    "index1", "index2", "index3",
    "middle1", "middle2", "middle3",
    "pinky1", "pinky2", "pinky3",
    "ring1", "ring2", "ring3",
    "thumb1", "thumb2", "thumb3",
)
PARENTS = (-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 0, 10, 11, 0, 13, 14)

# Fingertips are appended after the 16 joints in this order (MANO / smplx convention).
TIP_NAMES = ("thumb", "index", "middle", "ring", "pinky")
# smplx's fingertip vertex ids on the MANO mesh, in TIP_NAMES order.
MANO_TIP_VERTEX_IDS = (744, 320, 443, 554, 671)

# For each joint, the index (into the 21 MANO-order points) of the point its bone points at: the
# wrist at the middle finger's base, every finger joint at the next joint or its fingertip.
BONE_END_POINT = (4, 2, 3, 17, 5, 6, 18, 8, 9, 20, 11, 12, 19, 14, 15, 16)

# Index into the 21 "MANO order" points (16 joints + 5 tips) for each OpenPose /
# MediaPipe / FreiHAND keypoint: 0 wrist, 1-4 thumb, 5-8 index, 9-12 middle, 13-16 ring, 17-20 pinky.
MANO_TO_OPENPOSE = (0, 13, 14, 15, 16, 1, 2, 3, 17, 4, 5, 6, 18, 10, 11, 12, 19, 7, 8, 9, 20)
OPENPOSE_TO_MANO = tuple(MANO_TO_OPENPOSE.index(i) for i in range(NUM_KEYPOINTS))

KEYPOINT_NAMES = (
    "wrist",
    "thumb1", "thumb2", "thumb3", "thumb_tip",
    "index1", "index2", "index3", "index_tip",
    "middle1", "middle2", "middle3", "middle_tip",
    "ring1", "ring2", "ring3", "ring_tip",
    "pinky1", "pinky2", "pinky3", "pinky_tip",
)
# Parent of each OpenPose keypoint (the hand skeleton as a graph over the 21 keypoints).
KEYPOINT_PARENTS = (-1, 0, 1, 2, 3, 0, 5, 6, 7, 0, 9, 10, 11, 0, 13, 14, 15, 0, 17, 18, 19)

SIDES = ("right", "left")


def mano_to_openpose(points):
    """(..., 21, D) in MANO order (16 joints then tips) -> (..., 21, D) in OpenPose order."""
    return points[..., MANO_TO_OPENPOSE, :]


def openpose_to_mano(points):
    """(..., 21, D) in OpenPose order -> (..., 21, D) in MANO order."""
    return points[..., OPENPOSE_TO_MANO, :]


def mirror_pose(pose):
    """Axis-angle poses (..., 3) of one hand side -> the other side's.

    The left MANO hand is the right one reflected in the model's YZ plane (x -> -x).
    A rotation R becomes M R M with M = diag(-1, 1, 1); its axis-angle (x, y, z) becomes
    (x, -y, -z). Applying it twice gives the input back.
    """
    return pose * _sign_like(pose, (1.0, -1.0, -1.0))


def mirror_points(points):
    """3D points (..., 3) of one hand side -> the other side's (x -> -x)."""
    return points * _sign_like(points, (-1.0, 1.0, 1.0))


def _sign_like(array, signs):
    if hasattr(array, "new_tensor"):  # torch
        return array.new_tensor(signs)
    import numpy as np

    return np.asarray(signs, dtype=array.dtype)
