"""Refinement: each chosen pose fitted to all of MediaPipe's evidence, within MaskHand's own prior.

MaskHand reads MediaPipe's detected keypoints (u, v, the image landmarks' relative depth and the
world landmarks) as pose cues, but it has only seen hands our own code draws, and its answer is a
token grid, coarse where the prior is sure. MediaPipe computes two 3D readings of the same hand from
the real pixels: its image landmarks carry a relative depth beside x, y, and its world landmarks are
a separate metric estimate. Per frame, the refined pose is the most probable one (MAP) when

* the answer's finger joints are Gaussian about MaskHand's pose, with MaskHand's own calibrated
  per-joint uncertainty as the standard deviation (the prior; the global orientation is free,
  as both readings fix it);
* each landmark of both readings is Gaussian about the posed hand's keypoint (centred, scaled
  freely, in units of the hand's size), with per-axis deviations ``IMAGE_SIGMA`` and
  ``WORLD_SIGMA`` measured on our own renders (``tools/measure_landmark_noise.py``), never on
  real footage. The world landmarks are first turned into the camera's axes (Procrustes onto
  the image landmarks): MediaPipe's world frame is rotated from the camera's by 3-30 degrees.

Where MaskHand is sure and MediaPipe's two readings are noisy the answer stays MaskHand's; where
MaskHand is unsure it follows the landmarks. The shape (betas) stays MaskHand's. The fit is a few
Levenberg-Marquardt steps on all frames at once (the problem is a small nonlinear least squares:
49 unknowns, 171 residuals per frame), and the refined pose's uncertainty is the posterior's spread
per joint (the Laplace approximation at the answer), so a joint the landmarks pin down is surer.

Measured on the 300 real frames of bench/bench_real.py (measuring only), with the default
checkpoint: the capture's defaults read 11.6 mm PA-MPJPE / 11.7 deg flexion error unrefined and
7.7 mm / 10.2 deg refined (MediaPipe's world landmarks: 10.0 / 13.0; the built-in hand fitted to
them: 8.9 / 10.8). The deviations come from renders of the built-in hand's smooth skin, which
MediaPipe reads at 11-23 mm depending on the light (the old blocky hand: about 21 mm in the round
trip).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from ..metrics import procrustes_align

# Standard deviation of each reading's landmarks about the truth per camera axis (x, y, z), after a
# similarity alignment, in units of the hand's size (mean distance of the 21 keypoints from their
# centroid): MediaPipe 0.10.21 on 141 frames of 4 rendered clips of the built-in hand
# (tools/measure_landmark_noise.py). The image landmarks' depth is the least sure of their axes.
IMAGE_SIGMA = (0.103, 0.197, 0.245)
WORLD_SIGMA = (0.148, 0.186, 0.313)
# MaskHand's calibrated uncertainty, times this, is the prior's per-axis deviation. It stays 1: on renders of the
# built-in hand (tools/calibrate_refinement.py) a tighter prior wins (0.5: 9.5 mm / 15.3 deg against 10.2 / 15.5 at 1),
# but renders are the network's own domain, so a factor tuned there trusts it most where footage needs it least
# (measured, not chosen, on the real frames with 92d7656's checkpoint: 0.5 gave 8.6 mm / 11.2 deg against 7.8 / 10.3).
PRIOR_SCALE = 1.0
ITERATIONS = 4        # Levenberg-Marquardt steps from MaskHand's pose (see _refine_batch)
BATCH_FRAMES = 256    # frames solved together: bounds the Jacobians' memory (256 x 171 x 49 floats) on long clips


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


class Refined(NamedTuple):
    pose: np.ndarray          # (M, 16, 3) axis-angle: the MAP pose
    uncertainty: np.ndarray   # (M, 16) degrees: each finger joint's posterior spread; the root keeps MaskHand's


def refine_poses(hand, pose: np.ndarray, betas: np.ndarray, prior_deg: np.ndarray, keypoints2d: np.ndarray,
                 depth: np.ndarray, world: np.ndarray) -> Refined:
    """The MAP pose per frame (module docstring), and how sure it is.

    hand: the ``backend.hand_model`` model of the hands' side; pose (M, 16, 3) axis-angle and betas (M, 10),
    MaskHand's answer; prior_deg (M, 16) its uncertainty, degrees; keypoints2d (M, 21, 2) pixels, depth (M, 21)
    and world (M, 21, 3) MediaPipe's landmarks, OpenPose order."""
    if len(pose) == 0:
        return Refined(pose, np.asarray(prior_deg, np.float32))
    image, world_turned = landmark_readings(keypoints2d, depth, world)
    parts = [_refine_batch(hand, *(part[first:first + BATCH_FRAMES]
                                   for part in (pose, betas, prior_deg, image, world_turned)))
             for first in range(0, len(pose), BATCH_FRAMES)]
    return Refined(np.concatenate([part[0] for part in parts]).astype(pose.dtype),
                   np.concatenate([part[1] for part in parts]).astype(np.float32))


def _refine_batch(hand, pose, betas, prior_deg, image, world) -> tuple[np.ndarray, np.ndarray]:
    """Levenberg-Marquardt on each frame's 49 unknowns (16 joint rotations and the scale), all frames at once.

    Written here rather than with scipy.optimize.least_squares, which solves one problem at a time: the frames'
    problems are independent and tiny, so one batched Jacobian (forward mode, 49 directions) and 49 x 49 solves per
    step serve them all. The Gauss-Newton Hessian at the answer gives its posterior covariance (Laplace): a finger
    joint's uncertainty is its rotation's posterior spread, the prior's where the landmarks say nothing more."""
    device = hand.v_template.device

    def tensor(array):
        return torch.as_tensor(np.asarray(array), dtype=torch.float32, device=device)

    start = tensor(pose)                                                                       # (M, 16, 3)
    frames = len(start)
    keypoints_of = hand.keypoints_at_shape(tensor(betas))
    readings = torch.cat([tensor(image), tensor(world)], 1)                                    # (M, 42, 3)
    reading_weight = torch.cat([1 / tensor(IMAGE_SIGMA).expand(21, 3), 1 / tensor(WORLD_SIGMA).expand(21, 3)])
    prior_sigma = torch.deg2rad(tensor(prior_deg) * PRIOR_SCALE).clamp_min(1e-3)[:, 1:, None]  # (M, 15, 1) radians

    def centred_keypoints(current):
        keypoints = keypoints_of(current)                                                      # (M, 21, 3)
        return keypoints - keypoints.mean(1, keepdim=True)

    def residuals(unknowns):  # (M, 49) -> (M, 171): whitened misfit of both readings, then the prior's
        current, scale = unknowns[:, :48].reshape(frames, 16, 3), unknowns[:, 48:, None]
        fitted = scale * centred_keypoints(current)                                            # (M, 21, 3)
        data = (fitted.repeat(1, 2, 1) - readings) * reading_weight
        prior = (current[:, 1:] - start[:, 1:]) / prior_sigma
        return torch.cat([data.flatten(1), prior.flatten(1)], 1)

    def jacobian(unknowns):  # (M, 171, 49): a shift of one unknown in every frame moves only that frame's residuals
        return torch.func.jacfwd(lambda shift: residuals(unknowns + shift))(unknowns.new_zeros(49))

    with torch.no_grad():
        scale = 1 / centred_keypoints(start).norm(dim=-1).mean(1).clamp_min(1e-6)
        unknowns = torch.cat([start.flatten(1), scale[:, None]], 1)
        residual = residuals(unknowns)
        cost = (residual ** 2).sum(1)
        damping = torch.full((frames, 1, 1), 1e-3, device=device)
        for _ in range(ITERATIONS):
            jac = jacobian(unknowns)
            normal = jac.transpose(1, 2) @ jac                                                 # (M, 49, 49)
            gradient = (jac.transpose(1, 2) @ residual[..., None])[..., 0]
            damped = normal + damping * torch.diag_embed(normal.diagonal(dim1=1, dim2=2))
            trial = unknowns - torch.linalg.solve(damped, gradient)
            trial_residual = residuals(trial)
            trial_cost = (trial_residual ** 2).sum(1)
            better = trial_cost < cost                                                         # (M,)
            unknowns = torch.where(better[:, None], trial, unknowns)
            residual = torch.where(better[:, None], trial_residual, residual)
            cost = torch.where(better, trial_cost, cost)
            damping = torch.where(better[:, None, None], damping / 3, damping * 4)
        jac = jacobian(unknowns)
        covariance = torch.linalg.inv(jac.transpose(1, 2) @ jac)                              # (M, 49, 49)
    variance = covariance.diagonal(dim1=1, dim2=2)[:, 3:48].reshape(frames, 15, 3).mean(-1)   # per axis, radians^2
    uncertainty = np.asarray(prior_deg, np.float32).copy()
    uncertainty[:, 1:] = np.degrees(variance.sqrt().cpu().numpy())
    return unknowns[:, :48].reshape(frames, 16, 3).cpu().numpy(), uncertainty
