"""The MANO layout tables and the array helpers (no model needed)."""
import re

import numpy as np
import torch
from scipy.spatial.transform import Rotation

from backend.hand_model import layout


def test_tables_are_consistent():
    assert len(layout.JOINT_NAMES) == len(layout.PARENTS) == layout.NUM_JOINTS == 16
    assert layout.PARENTS == (-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 0, 10, 11, 0, 13, 14)
    assert sorted(layout.MANO_TO_OPENPOSE) == list(range(21))
    # Each OpenPose keypoint's parent is the keypoint of its MANO parent (tips hang off the last joint).
    mano_names = layout.JOINT_NAMES + tuple(f"{tip}_tip" for tip in layout.TIP_NAMES)
    assert tuple(mano_names[i] for i in layout.MANO_TO_OPENPOSE) == layout.KEYPOINT_NAMES
    finger = [re.sub(r"(\d|_tip)$", "", name) for name in layout.KEYPOINT_NAMES]
    for child, parent in enumerate(layout.KEYPOINT_PARENTS[1:], start=1):
        assert finger[parent] in ("wrist", finger[child])


def test_order_conversions_invert_each_other_for_numpy_and_torch():
    points = np.random.default_rng(0).normal(size=(4, 21, 3))
    assert np.array_equal(layout.openpose_to_mano(layout.mano_to_openpose(points)), points)
    tensor = torch.from_numpy(points)
    assert torch.equal(layout.mano_to_openpose(layout.openpose_to_mano(tensor)), tensor)
    # wrist stays first; OpenPose 1-4 are MANO's thumb joints 13-15 and the thumb tip (MANO point 16)
    assert np.array_equal(layout.mano_to_openpose(points)[:, 1:5], points[:, [13, 14, 15, 16]])


def test_mirroring_is_an_involution_and_matches_the_reflection():
    rng = np.random.default_rng(1)
    pose = rng.normal(size=(5, 16, 3))
    assert np.allclose(layout.mirror_pose(layout.mirror_pose(pose)), pose)
    points = torch.from_numpy(rng.normal(size=(5, 21, 3)))
    assert torch.equal(layout.mirror_points(layout.mirror_points(points)), points)
    # The mirrored axis-angle is the rotation M R M with M = diag(-1, 1, 1).
    mirror = np.diag([-1.0, 1.0, 1.0])
    rotations = Rotation.from_rotvec(pose.reshape(-1, 3)).as_matrix()
    mirrored = Rotation.from_rotvec(layout.mirror_pose(pose.reshape(-1, 3))).as_matrix()
    assert np.allclose(mirrored, mirror @ rotations @ mirror, atol=1e-12)
