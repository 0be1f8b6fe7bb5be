"""Per-joint uncertainty that knows when the 2D evidence is weak.

MaskHand's own uncertainty (``backend.maskhand.sampling``: the spread of its hypotheses and of
its code distribution, calibrated into degrees) measures how sure the model is *given* the
detected keypoints; it trusts them. Keypoints that no hand fits are a sign the model's answer
rests on poor evidence, so the uncertainty grows where the chosen pose, placed by the
translation fit, does not land on the detections:

Where a joint's bone ends ``r`` pixels away from where the detections put it, relative to the
bone's own start, and the bone is ``L`` pixels long at that depth, the pose and the detections
disagree on the bone's direction by about ``atan(r / L)``. Some of that is normal (MediaPipe's
skeleton is not our hand's; short bones magnify pixel noise), so a hand's residual is the
median ``m`` over its 16 joints, and only what it has beyond ``RESIDUAL_TOLERANCE_DEG`` (``t``)
counts: past that, half the bones end more than tan(30 deg) = 0.58 of their length from where
the pose puts them, which no pose of a hand explains. That excess, taken in quadrature
(``e = sqrt(m^2 - t^2)``: a 35-degree median gives 18 degrees), is added to every joint's
uncertainty in quadrature too (independent errors), so a clean hand keeps the model's value.

Not used, measured: MediaPipe's handedness confidence, the one per-hand score the legacy
solution gives besides its presence gate, ranks errors the wrong way round (Spearman -0.29 per
hand between 1/confidence and PA-MPJPE on 114 rendered frames of the built-in hand with known
truth: surer labels on harder, side-on views).
"""
from __future__ import annotations

import numpy as np

from ..hand_model.layout import BONE_END_POINT, OPENPOSE_TO_MANO
from .preview import project

RESIDUAL_TOLERANCE_DEG = 30.0  # a hand's median bone-direction residual that still counts as a fit


def residual_angles_deg(keypoints3d: np.ndarray, detected: np.ndarray, focal: float, width: int, height: int
                        ) -> np.ndarray:
    """Per joint, the angle between the pose's bone and the detections' (M, 16), degrees.

    keypoints3d: (M, 21, 3) camera frame, metres (OpenPose order); detected: (M, 21, 2) pixels in a
    ``width`` x ``height`` frame seen with ``focal`` (``backend.capture.preview.project``)."""
    mano3d = keypoints3d[:, list(OPENPOSE_TO_MANO)]                                    # (M, 21, 3) MANO order
    mano2d = detected[:, list(OPENPOSE_TO_MANO)]
    projected = project(mano3d, focal, width, height)                                  # (M, 21, 2)
    start, end = np.arange(16), np.array(BONE_END_POINT)
    miss = (projected[:, end] - projected[:, start]) - (mano2d[:, end] - mano2d[:, start])  # (M, 16, 2)
    depth = np.maximum(mano3d[:, start, 2], 1e-6)
    bone_pixels = np.linalg.norm(mano3d[:, end] - mano3d[:, start], axis=-1) * focal / depth
    return np.degrees(np.arctan2(np.linalg.norm(miss, axis=-1), np.maximum(bone_pixels, 1e-6)))


def evidence_uncertainty(uncertainty: np.ndarray, residual_deg: np.ndarray) -> np.ndarray:
    """The model's uncertainty (M, 16) degrees, widened by the residual angles (M, 16): sqrt(u^2 + e^2), with e the
    excess of each hand's median residual over the tolerance (0 for a hand the pose fits)."""
    median = np.median(residual_deg, axis=1)
    excess = np.sqrt(np.maximum(median ** 2 - RESIDUAL_TOLERANCE_DEG ** 2, 0.0))      # (M,)
    return np.sqrt(uncertainty ** 2 + excess[:, None] ** 2).astype(np.float32)
