"""The baseline a user gets for free: the built-in hand fitted to MediaPipe's 3D world landmarks.

What MediaPipe-driven Blender add-ons do, done with care: per frame, the hand's pose (16 joints,
axis-angle, MANO convention) and one scale, by least squares between the hand's centred
keypoints and MediaPipe's centred world landmarks, plus ``POSE_WEIGHT`` x the squared finger
pose (it keeps the joints the landmarks leave free near the flat hand), ``STEPS`` Adam steps
at ``LEARNING_RATE`` from the flat hand. It is the recipe of
../shared/data/realworld_dev/README.md, so figures compare with the ones measured there.
All frames are fitted at once: each frame's parameters only meet its own loss.
"""
from __future__ import annotations

import numpy as np
import torch

STEPS = 500
LEARNING_RATE = 0.03
POSE_WEIGHT = 1e-4


def fit_hand_to_landmarks(hand, landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fit ``hand`` (a ``backend.hand_model`` model of the landmarks' side) to world landmarks (N, 21, 3), metres.

    Returns the fitted hand's keypoints (N, 21, 3), centred and scaled onto the landmarks' frame, and
    its pose (N, 16, 3)."""
    count = len(landmarks)
    target = torch.as_tensor(landmarks - landmarks.mean(1, keepdims=True), dtype=torch.float32)   # (N, 21, 3)
    pose = torch.zeros(count, 16, 3, requires_grad=True)
    scale = torch.ones(count, requires_grad=True)
    betas = torch.zeros(count, 10)
    optimiser = torch.optim.Adam([pose, scale], lr=LEARNING_RATE)

    def fitted() -> torch.Tensor:
        keypoints = hand(pose, betas, with_vertices=False).keypoints                             # (N, 21, 3)
        return scale[:, None, None] * (keypoints - keypoints.mean(1, keepdim=True))

    for _ in range(STEPS):
        optimiser.zero_grad()
        loss = ((fitted() - target) ** 2).sum() + POSE_WEIGHT * (pose[:, 1:] ** 2).sum()
        loss.backward()
        optimiser.step()
    with torch.no_grad():
        return fitted().numpy() + landmarks.mean(1, keepdims=True), pose.detach().numpy()
