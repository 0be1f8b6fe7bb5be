"""The synthetic training data: determinism, anatomy, cues, and the right-hand frame."""
import numpy as np
import pytest
import torch

from backend.context.pose_cues import CUE_CHANNELS_3D
from backend.training.data.synthetic import DIP_FLEX, PIP_FLEX, SyntheticHands, sample_finger_pose
from backend.training.data.training_batch import from_synthetic
from backend.hand_model import JOINT_NAMES, load_hand_model


@pytest.fixture(scope="module")
def batch():
    return SyntheticHands(seed=11).sample(512)


def test_same_seed_same_data_other_seed_other_data(batch):
    again = SyntheticHands(seed=11).sample(512)
    for field in ("pose", "betas", "cues2d", "cue_confidence", "occluded", "focal"):
        assert np.array_equal(getattr(batch, field), getattr(again, field)), field
    assert not np.allclose(SyntheticHands(seed=12).sample(512).pose, batch.pose)


def test_finger_poses_respect_anatomy_and_couple_dip_to_pip():
    pose = sample_finger_pose(np.random.default_rng(0), 4000)              # (N, 15, 3)
    flexion = np.degrees(pose[..., 2])
    for finger in ("index", "middle", "ring", "pinky"):
        pip = flexion[:, JOINT_NAMES.index(f"{finger}2") - 1]
        dip = flexion[:, JOINT_NAMES.index(f"{finger}3") - 1]
        assert PIP_FLEX[0] - 1e-9 <= pip.min() and pip.max() <= PIP_FLEX[1] + 1e-9
        assert DIP_FLEX[0] - 1e-9 <= dip.min() and dip.max() <= DIP_FLEX[1] + 1e-9
        assert np.corrcoef(pip, dip)[0, 1] > 0.9
    # a real spread of gestures: both nearly open and nearly closed fingers are common
    index_pip = flexion[:, JOINT_NAMES.index("index2") - 1]
    assert (index_pip < 20).mean() > 0.15 and (index_pip > 80).mean() > 0.05


def test_cues_look_like_a_detectors(batch):
    assert batch.cue_confidence.min() >= 0 and batch.cue_confidence.max() <= 1
    error = np.linalg.norm(batch.cues2d - batch.keypoints2d, axis=-1)
    size = np.ptp(batch.keypoints2d, axis=1).max(-1)[:, None]
    assert np.median(error[~batch.occluded] / np.broadcast_to(size, error.shape)[~batch.occluded]) < 0.03
    assert np.median(error[batch.occluded]) > 3 * np.median(error[~batch.occluded])
    informative = np.ptp(batch.cue_confidence, axis=1) > 0
    assert batch.cue_confidence[informative][batch.occluded[informative]].mean() < 0.5
    assert 0.2 < batch.occluded.any(1).mean() < 0.8
    assert 0.3 < batch.is_right.mean() < 0.7


def test_training_batch_is_consistent_in_the_right_hand_frame(batch):
    training = from_synthetic(batch)
    right = load_hand_model("right")
    with torch.no_grad():
        keypoints = right(training.pose, training.betas).keypoints
    relative = keypoints - keypoints[:, :1]
    assert torch.allclose(relative, training.keypoints3d, atol=1e-5)  # left hands mirrored consistently
    assert training.cues.shape == (512, 21, CUE_CHANNELS_3D)
    inside = (training.keypoints2d.abs() <= 0.5).float().mean()
    assert inside > 0.9
