"""The hand: MANO layout, forward kinematics, and the two models that share them.

``load_hand_model(side)`` gives our built-in hand; with ``mano_folder`` it gives MANO
from the user's own files. Both are ``HandModel``s: pose (B, 16, 3) + betas -> joints,
21 keypoints (OpenPose / MediaPipe order) and vertices.
"""
from __future__ import annotations

from pathlib import Path

from .builtin import builtin_hand_data
from .layout import (JOINT_NAMES, KEYPOINT_NAMES, KEYPOINT_PARENTS, MANO_TO_OPENPOSE, NUM_JOINTS, NUM_KEYPOINTS,
                     OPENPOSE_TO_MANO, PARENTS, SIDES, TIP_NAMES, mano_to_openpose, mirror_points, mirror_pose,
                     openpose_to_mano)
from .mano import ManoModelError, load_mano_data
from .model import HandModel, HandModelData, HandOutput


def load_hand_model(side: str = "right", mano_folder: str | Path | None = None) -> HandModel:
    """MANO from ``mano_folder`` when given, else the built-in hand."""
    data = builtin_hand_data(side) if mano_folder is None else load_mano_data(mano_folder, side)
    return HandModel(data)


__all__ = [
    "HandModel", "HandModelData", "HandOutput", "ManoModelError", "load_hand_model", "builtin_hand_data",
    "load_mano_data", "JOINT_NAMES", "KEYPOINT_NAMES", "KEYPOINT_PARENTS", "MANO_TO_OPENPOSE", "OPENPOSE_TO_MANO",
    "NUM_JOINTS", "NUM_KEYPOINTS", "PARENTS", "SIDES", "TIP_NAMES", "mano_to_openpose", "openpose_to_mano",
    "mirror_pose", "mirror_points",
]
