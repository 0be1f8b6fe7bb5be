"""The pose cues: 2D keypoints and MediaPipe's two 3D readings in crop units, and the synthetic readings' noise."""
import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation

from backend.context.pose_cues import CUE_CHANNELS_2D, CUE_CHANNELS_3D, PoseCueEncoder, crop_cues
from backend.training.data.synthetic import SyntheticHands, landmark_3d_errors
from backend.maskhand.config import MaskHandConfig
from backend.capture.refine import WORLD_SIGMA, hand_size


def right_hands(count: int = 6):
    batch = SyntheticHands(seed=4).sample(64)
    right = np.flatnonzero(batch.is_right)[:count]
    return (batch.cues2d[right], batch.cue_confidence[right], batch.cue_depth[right], batch.cue_world[right])


def test_left_hand_cues_are_the_mirrored_right_hands():
    keypoints, confidence, depth, world = right_hands()
    right, _ = crop_cues(keypoints, confidence, np.ones(len(keypoints), bool), depth, world)
    mirrored_keypoints = keypoints * [-1, 1] + [640, 0]
    left, _ = crop_cues(mirrored_keypoints, confidence, np.zeros(len(keypoints), bool), depth, world * [-1, 1, 1])
    assert right.shape == (len(keypoints), 21, CUE_CHANNELS_3D)
    np.testing.assert_allclose(left, right, atol=1e-5)


def test_world_landmarks_frame_does_not_matter():
    """MediaPipe's world frame is rotated from the camera's; the cues turn it onto the image landmarks."""
    keypoints, confidence, depth, world = right_hands()
    is_right = np.ones(len(keypoints), bool)
    turned = Rotation.from_euler("xyz", [25, -10, 40], degrees=True).apply(world.reshape(-1, 3)).reshape(world.shape)
    np.testing.assert_allclose(crop_cues(keypoints, confidence, is_right, depth, 3 * turned)[0],
                               crop_cues(keypoints, confidence, is_right, depth, world)[0], atol=1e-5)
    with pytest.raises(ValueError, match="both depth and world"):
        crop_cues(keypoints, confidence, is_right, depth)


def test_synthetic_readings_deviate_as_measured_on_renders():
    """Visible keypoints: world deviations per axis of WORLD_SIGMA hand sizes, times the RMS of the 0.5-1.5 level;
    depth follows the camera's z (nearer keypoints smaller) in about the x scale."""
    batch = SyntheticHands(seed=8).sample(2000)
    _, world = landmark_3d_errors(np.random.default_rng(0), batch.keypoints3d, batch.keypoints2d,
                                  np.zeros((2000, 21), bool))
    truth = batch.keypoints3d - batch.keypoints3d.mean(1, keepdims=True)
    deviation = (world - truth) / hand_size(batch.keypoints3d)[:, None, None]
    level_rms = np.sqrt(1 + 1 / 12)  # E[f^2] of f ~ U(0.5, 1.5)
    np.testing.assert_allclose(np.sqrt((deviation ** 2).mean((0, 1))), np.array(WORLD_SIGMA) * level_rms, rtol=0.05)
    true_depth = batch.keypoints3d[..., 2] - batch.keypoints3d[:, :1, 2]
    slope = (batch.cue_depth * true_depth).sum(1) / (true_depth ** 2).sum(1)           # px per metre, per hand
    pixels_per_metre = batch.focal / batch.keypoints3d[..., 2].mean(1)
    assert 0.6 < np.median(slope / pixels_per_metre) < 1.4
    assert np.corrcoef(batch.cue_depth.ravel(), true_depth.ravel())[0, 1] > 0.5


def test_checkpoints_saved_before_3d_cues_read_two_dimensions():
    data = MaskHandConfig().to_dict()
    del data["transformer"]["landmarks_3d"]
    assert MaskHandConfig.from_dict(data).transformer.landmarks_3d is False
    flat = PoseCueEncoder(16, 1, 1, 2, 0.0, CUE_CHANNELS_2D)
    cues = torch.rand(2, 21, CUE_CHANNELS_3D)
    features, _ = flat(cues)
    torch.testing.assert_close(features, flat(cues[..., :CUE_CHANNELS_2D])[0])  # the 3D readings are cut off
    with pytest.raises(ValueError, match="7 cue channels"):
        PoseCueEncoder(16, 1, 1, 2, 0.0, CUE_CHANNELS_3D)(cues[..., :CUE_CHANNELS_2D])
