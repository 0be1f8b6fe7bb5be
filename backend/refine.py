"""Refinement: each chosen pose fitted to all of MediaPipe's evidence, within MaskHand's own prior.

MaskHand reads the detected keypoints in the image plane (u, v) only, and has only seen hands our
own code draws. MediaPipe computes two 3D readings of the same hand from the real pixels: its
image landmarks carry a relative depth beside x, y, and its world landmarks are a separate metric
estimate. Per frame, the refined pose is the most probable one (MAP) when

* the answer's finger joints are Gaussian about MaskHand's pose, with MaskHand's own calibrated
  per-joint uncertainty as the standard deviation (the prior; the global orientation is free,
  as both readings fix it);
* each landmark of both readings is Gaussian about the posed hand's keypoint (centred, scaled
  freely, in units of the hand's size), with per-axis deviations ``IMAGE_SIGMA`` and
  ``WORLD_SIGMA`` measured on our own renders (``tools/measure_landmark_noise.py``), never on
  real footage. The world landmarks are first turned into the camera's axes (Procrustes onto
  the image landmarks): MediaPipe's world frame is rotated from the camera's by 3-30 degrees.

Where MaskHand is sure and MediaPipe's two readings are noisy the answer stays MaskHand's; where
MaskHand is unsure it follows the landmarks. The shape (betas) stays MaskHand's.

Measured on the 300 real frames of bench/bench_real.py (measuring only): the capture's defaults
went from 14.2 mm PA-MPJPE / 12.3 deg flexion error to 7.9 mm / 10.2 deg (MediaPipe's world
landmarks: 10.0 / 13.0; the built-in hand fitted to them: 8.9 / 10.8). The deviations come from
renders of the built-in hand's smooth skin, which MediaPipe reads at 11-23 mm depending on the
light (the old blocky hand: about 21 mm in the round trip).
"""
from __future__ import annotations

import numpy as np
import torch

from .metrics import procrustes_align

# Standard deviation of each reading's landmarks about the truth per camera axis (x, y, z), after a
# similarity alignment, in units of the hand's size (mean distance of the 21 keypoints from their
# centroid): MediaPipe 0.10.21 on 141 frames of 4 rendered clips of the built-in hand
# (tools/measure_landmark_noise.py). The image landmarks' depth is the least sure of their axes.
IMAGE_SIGMA = (0.103, 0.197, 0.245)
WORLD_SIGMA = (0.148, 0.186, 0.313)
STEPS = 100  # Adam steps from MaskHand's pose: on our renders the energy is then within 0.1 % of its value after 400
LEARNING_RATE = 0.03
BATCH_FRAMES = 1024    # frames optimised together: bounds autograd's memory on long clips


def hand_size(points: np.ndarray) -> np.ndarray:
    """(..., P, 3) -> (...,): the mean distance of the points from their centroid."""
    return np.linalg.norm(points - points.mean(-2, keepdims=True), axis=-1).mean(-1)


def landmark_readings(keypoints2d: np.ndarray, depth: np.ndarray, world: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """MediaPipe's two readings of M hands in the camera's axes, centred, in units of the hand's size:
    the image landmarks (x, y, relative depth; pixels) and the world landmarks turned onto them. (M, 21, 3) each."""
    image = np.concatenate([keypoints2d, depth[..., None]], -1).astype(np.float64)           # (M, 21, 3)
    world = procrustes_align(world.astype(np.float64), image)
    size = np.maximum(hand_size(image), 1e-6)[:, None, None]
    return ((image - image.mean(1, keepdims=True)) / size, (world - world.mean(1, keepdims=True)) / size)


def refine_poses(hand, pose: np.ndarray, betas: np.ndarray, prior_deg: np.ndarray, keypoints2d: np.ndarray,
                 depth: np.ndarray, world: np.ndarray) -> np.ndarray:
    """The MAP pose per frame (module docstring).

    hand: the ``backend.hand_model`` model of the hands' side; pose (M, 16, 3) axis-angle and betas (M, 10),
    MaskHand's answer; prior_deg (M, 16) its uncertainty, degrees; keypoints2d (M, 21, 2) pixels, depth (M, 21)
    and world (M, 21, 3) MediaPipe's landmarks, OpenPose order. Returns the refined pose (M, 16, 3)."""
    if len(pose) == 0:
        return pose
    image, world_turned = landmark_readings(keypoints2d, depth, world)
    refined = [_refine_batch(hand, *(part[first:first + BATCH_FRAMES]
                                     for part in (pose, betas, prior_deg, image, world_turned)))
               for first in range(0, len(pose), BATCH_FRAMES)]
    return np.concatenate(refined).astype(pose.dtype)


def _refine_batch(hand, pose, betas, prior_deg, image, world) -> np.ndarray:
    device = hand.v_template.device

    def tensor(array):
        return torch.as_tensor(np.asarray(array), dtype=torch.float32, device=device)

    start = tensor(pose)
    keypoints_of = hand.keypoints_at_shape(tensor(betas))
    readings = ((tensor(image), 1 / tensor(IMAGE_SIGMA) ** 2), (tensor(world), 1 / tensor(WORLD_SIGMA) ** 2))
    prior_precision = 1 / torch.deg2rad(tensor(prior_deg)).clamp_min(1e-3)[:, 1:, None] ** 2   # (M, 15, 1)

    def centred_keypoints(current):
        keypoints = keypoints_of(current)                                                      # (M, 21, 3)
        return keypoints - keypoints.mean(1, keepdim=True)

    with torch.no_grad():
        scale = 1 / centred_keypoints(start).norm(dim=-1).mean(1).clamp_min(1e-6)              # (M,)
    current = start.clone().requires_grad_(True)
    scale.requires_grad_(True)
    optimiser = torch.optim.Adam([current, scale], lr=LEARNING_RATE)
    for _ in range(STEPS):
        optimiser.zero_grad()
        fitted = scale[:, None, None] * centred_keypoints(current)
        energy = sum((((fitted - reading) ** 2) * precision).sum() for reading, precision in readings)
        energy = energy + (((current[:, 1:] - start[:, 1:]) ** 2) * prior_precision).sum()
        (0.5 * energy).backward()
        optimiser.step()
    return current.detach().cpu().numpy()
