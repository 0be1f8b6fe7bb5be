"""The choice stage, per hand: its pose per frame from its candidates (the sampler's answer, or along the
motion in temporal mode: backend.capture.temporal), refined on MediaPipe's 3D landmarks, placed in the camera
by a fit to the detections, with its uncertainty widened where the evidence is weak: the hand's result arrays."""
from __future__ import annotations

import numpy as np
import torch

from ..detect.handedness import SettledHand
from .estimation import Estimates, PoseEstimator
from .evidence import evidence_uncertainty, residual_angles_deg
from .footage import Footage
from .protocol import CaptureRequest
from .refine import refine_poses
from .result import empty_track
from .temporal import temporal_weights, weighted_poses


def choose_poses(hands: list[SettledHand], estimates: Estimates, estimator: PoseEstimator, start: int, decoded: int,
                 request: CaptureRequest, footage: Footage) -> dict:
    """Every hand's result arrays over the ``decoded`` frames from ``start``, by hand name. The motion chooses
    among the hypotheses only where asked for and where they differ (``SamplingConfig.hypotheses_differ``)."""
    frames = np.arange(start, start + decoded)
    temporal = request.temporal and estimator.sampling.hypotheses_differ
    return {hand.name: hand_result(hand, estimates, frames, estimator, temporal, request.refine, footage)
            for hand in hands}


def hand_result(hand: SettledHand, estimates: Estimates, frames: np.ndarray, estimator: PoseEstimator,
                temporal: bool, refine: bool, footage: Footage) -> dict:
    """One hand's result arrays over ``frames`` (backend.capture.result), its pose chosen per frame or along the
    motion, then (``refine``) fitted to MediaPipe's 3D landmarks (backend.capture.refine). Work and memory follow
    the hand's own frames (temporal mode: the span from its first frame to its last)."""
    arrays = empty_track(frames)
    found = sorted((row, track.id, detection) for track in hand.tracks
                   for row, detection in zip(track.rows, track.detections))                   # frame order
    if not found:
        return arrays
    rows = np.array([row for row, _, _ in found])                                              # (M,)
    entries = [estimates.entries[track, row] for row, track, _ in found]
    samples = np.stack([entry[1] for entry in entries])                                        # (M, C, 16, 3)
    scores = np.stack([entry[2] for entry in entries])                                         # (M, C)
    betas = np.stack([entry[3] for entry in entries])                                          # (M, C, 10)
    if temporal:
        span = rows - rows[0]
        dense_samples = np.zeros((span[-1] + 1,) + samples.shape[1:], np.float32)
        dense_scores = np.zeros((span[-1] + 1,) + scores.shape[1:], np.float32)
        dense_valid = np.zeros(span[-1] + 1, bool)
        dense_samples[span], dense_scores[span], dense_valid[span] = samples, scores, True
        weights = temporal_weights(dense_samples, dense_scores, dense_valid)[span]            # (M, C)
        pose = weighted_poses(samples, weights).astype(np.float32)
        chosen_betas = np.einsum("mc,mcb->mb", weights, betas).astype(np.float32)
    else:  # the sampler's own answer (candidate 0)
        pose, chosen_betas = samples[:, 0], betas[:, 0]
    model_uncertainty = np.stack([entry[4] for entry in entries])                             # (M, 16) degrees
    detected = np.stack([detection.keypoints for _, _, detection in found]).astype(np.float32)  # (M, 21, 2)
    model = estimator.hands[hand.side]
    if refine:
        pose, model_uncertainty = _refined(pose, chosen_betas, model_uncertainty,
                                           [detection for _, _, detection in found], model,
                                           estimator.sampling.typical_error)
    score = np.array([detection.score for _, _, detection in found], np.float32)              # (M,)
    confidence = np.repeat(score[:, None], 21, 1)
    with torch.no_grad():
        device = model.v_template.device
        keypoints = model(torch.as_tensor(pose, device=device), torch.as_tensor(chosen_betas, device=device),
                          with_vertices=False).keypoints.cpu().numpy()                         # (M, 21, 3)
    cam_t = fit_translation(keypoints, detected, confidence, footage)
    joints3d = keypoints + cam_t[:, None]
    residual = residual_angles_deg(joints3d, detected, footage.focal, footage.width, footage.height)
    uncertainty = evidence_uncertainty(model_uncertainty, residual)
    for name, values in (("valid", True), ("global_orient", pose[:, 0]), ("hand_pose", pose[:, 1:]),
                         ("betas", chosen_betas), ("cam_t", cam_t), ("joints3d", joints3d), ("keypoints2d", detected),
                         ("keypoint_conf", confidence), ("uncertainty", uncertainty), ("score", score)):
        arrays[name][rows] = values
    return arrays


def _refined(pose: np.ndarray, betas: np.ndarray, uncertainty: np.ndarray, detections: list, model,
             typical_error: list | None) -> tuple[np.ndarray, np.ndarray]:
    """``pose`` (M, 16, 3) fitted to MediaPipe's landmarks (backend.capture.refine) within MaskHand's uncertainty
    (M, 16) degrees, or the checkpoint's ``typical_error`` where none was measured (K=1; without one such
    poses stay as they are), and the refined poses' uncertainty (backend.capture.refine's posterior). Detections without
    depth and world landmarks (not MediaPipe's) stay as they are, with their uncertainty."""
    unmeasured = ~uncertainty.any(1)
    prior = uncertainty
    if typical_error is not None:
        prior = np.where(unmeasured[:, None], np.asarray(typical_error, np.float32), uncertainty)
    rows = [m for m, detection in enumerate(detections) if detection.depth is not None
            and detection.world is not None and (typical_error is not None or not unmeasured[m])]
    if not rows:
        return pose, uncertainty
    refined = refine_poses(model, pose[rows], betas[rows], prior[rows], np.stack([detections[m].keypoints for m in rows]),
                           np.stack([detections[m].depth for m in rows]), np.stack([detections[m].world for m in rows]))
    pose, uncertainty = pose.copy(), uncertainty.copy()
    pose[rows] = refined.pose
    # Where MaskHand measured nothing (K=1) the posterior would only restate the typical error: still none.
    uncertainty[rows] = np.where(unmeasured[rows, None], uncertainty[rows], refined.uncertainty)
    return pose, uncertainty


def fit_translation(keypoints: np.ndarray, detected: np.ndarray, confidence: np.ndarray,
                    footage: Footage) -> np.ndarray:
    """Translations (M, 3) that put model-frame keypoints (M, 21, 3) onto the detected 2D keypoints (M, 21, 2).

    The network's crop camera serves only to rank its hypotheses; the output camera is fitted to the
    detections, which are what the animator sees. With the long focal of ``Footage.focal`` the camera is
    near-orthographic, so a confidence-weighted least-squares fit of scale and offset (closed form) gives the
    translation: depth = f / scale.
    """
    weight = np.maximum(confidence, 1e-6)[..., None]                                     # (M, 21, 1)
    total = weight.sum(1, keepdims=True)
    model_mean = (weight * keypoints[..., :2]).sum(1, keepdims=True) / total
    detected_mean = (weight * detected).sum(1, keepdims=True) / total
    centred_model, centred_detected = keypoints[..., :2] - model_mean, detected - detected_mean
    scale = (weight * centred_model * centred_detected).sum((1, 2)) / (weight * centred_model ** 2).sum((1, 2))
    scale = np.maximum(scale, 1e-6)                                                      # (M,)
    centre = np.array([footage.width / 2, footage.height / 2])
    mean_depth = (weight[..., 0] * keypoints[..., 2]).sum(1) / total[:, 0, 0]
    depth = footage.focal / scale
    offset = (detected_mean[:, 0] - centre) / scale[:, None] - model_mean[:, 0]
    return np.concatenate([offset, (depth - mean_depth)[:, None]], 1).astype(np.float32)
