"""Per-joint uncertainty that knows when the 2D evidence is weak.

MaskHand's own uncertainty (``backend.maskhand.sampling``: the spread of its hypotheses and of
its code distribution, calibrated into degrees) measures how sure the model is *given* the
detected keypoints; it trusts them. Two signs that the keypoints themselves are poor evidence
are added here, so Cleanup flags such hands:

* **Reprojection residual.** The chosen pose, placed by the translation fit, should land on the
  detections. Where a joint's bone ends ``r`` pixels away from where the detections put it,
  relative to the bone's own start, and the bone is ``L`` pixels long at that depth, the pose
  and the detections disagree on the bone's direction by about ``atan(r / L)``. Some of that is
  normal (MediaPipe's skeleton is not our hand's, short bones magnify pixel noise), so a hand's
  residual is the median over its 16 joints, and only its excess over ``RESIDUAL_TOLERANCE_DEG``
  counts: past that, half the bones end more than tan(30 deg) = 0.58 of their length from where
  the pose puts them, which no pose of a hand explains. The excess is added to every joint in
  quadrature (independent errors). Keypoints that contradict each other, or an answer far
  from them, show here.
* **MediaPipe's confidence.** Its handedness confidence is the landmark network's own reading of
  the hand; near 0.5 it cannot tell a left from a right hand, i.e. it sees the hand poorly. The
  uncertainty is divided by the confidence (floored at 0.5): a coin toss doubles it, a sure
  reading (1.0) leaves it as it is.
"""
from __future__ import annotations

import numpy as np

from .hand_model.layout import BONE_END_POINT, OPENPOSE_TO_MANO

LEAST_CONFIDENCE = 0.5         # a handedness confidence below a coin toss says no more than one
RESIDUAL_TOLERANCE_DEG = 30.0  # a hand's median bone-direction residual that still counts as a fit


def residual_angles_deg(keypoints3d: np.ndarray, detected: np.ndarray, focal: float, centre: np.ndarray) -> np.ndarray:
    """Per joint, the angle between the pose's bone and the detections' (M, 16), degrees.

    keypoints3d: (M, 21, 3) camera frame, metres (OpenPose order); detected: (M, 21, 2) pixels;
    centre: (2,) the image centre the camera projects onto."""
    mano3d = keypoints3d[:, list(OPENPOSE_TO_MANO)]                                    # (M, 21, 3) MANO order
    mano2d = detected[:, list(OPENPOSE_TO_MANO)]
    depth = np.maximum(mano3d[..., 2:], 1e-6)
    projected = focal * mano3d[..., :2] / depth + centre                               # (M, 21, 2)
    start, end = np.arange(16), np.array(BONE_END_POINT)
    miss = (projected[:, end] - projected[:, start]) - (mano2d[:, end] - mano2d[:, start])  # (M, 16, 2)
    bone_pixels = np.linalg.norm(mano3d[:, end] - mano3d[:, start], axis=-1) * focal / depth[:, start, 0]
    return np.degrees(np.arctan2(np.linalg.norm(miss, axis=-1), np.maximum(bone_pixels, 1e-6)))


def evidence_uncertainty(uncertainty: np.ndarray, residual_deg: np.ndarray, confidence: np.ndarray) -> np.ndarray:
    """The model's uncertainty (M, 16) degrees, widened by the residual angles (M, 16) and the
    detections' confidence (M,): sqrt(u^2 + e^2) / max(confidence, 0.5), with e the excess of each
    hand's median residual over the tolerance (0 for a hand the pose fits)."""
    median = np.median(residual_deg, axis=1)
    excess = np.sqrt(np.maximum(median ** 2 - RESIDUAL_TOLERANCE_DEG ** 2, 0.0))      # (M,)
    widened = np.sqrt(uncertainty ** 2 + excess[:, None] ** 2)
    return (widened / np.maximum(confidence, LEAST_CONFIDENCE)[:, None]).astype(np.float32)
