"""The built-in hand in random poses of the kind it trains on (backend.training.data.synthetic), for tests that need a hand's
keypoints with known truth."""
import numpy as np
import torch

from backend.training.data.synthetic import sample_finger_pose, sample_global_orientation
from backend.hand_model import load_hand_model


def builtin_hand_keypoints(side: str, count: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(keypoints (count, 21, 3) in the hand model's frame, metres, OpenPose order; poses (count, 16, 3))."""
    rng = np.random.default_rng(seed)
    pose = np.concatenate([sample_global_orientation(rng, count)[:, None], sample_finger_pose(rng, count)], 1)
    with torch.no_grad():
        keypoints = load_hand_model(side)(torch.as_tensor(pose, dtype=torch.float32), torch.zeros(count, 10),
                                          with_vertices=False).keypoints.numpy().astype(np.float64)
    return keypoints, pose
