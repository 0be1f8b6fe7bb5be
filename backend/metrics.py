"""Hand reconstruction metrics as the papers compute them (FreiHAND's protocol).

PA-MPJPE / PA-MPVPE: mean Euclidean error after a similarity Procrustes alignment of each
prediction to its ground truth (scale, rotation, translation), in millimetres. F@t: the
F-score of the aligned vertex sets at distance t (precision: predicted vertices within t of
the ground-truth set; recall: the converse). Joint angle error: geodesic angle between the
predicted and true local rotations. Flexion error: the bending angle at each of the 15 finger
joints, from the 21 keypoints alone (angle between the bone into the joint and the bone out of
it), against the truth's: comparable across hand models and with any keypoint estimate.
"""
from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree


def procrustes_align(predicted: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Similarity-align each predicted point set (N, P, 3) to its target (N, P, 3) (Umeyama 1991)."""
    mu_p, mu_t = predicted.mean(1, keepdims=True), target.mean(1, keepdims=True)
    p, t = predicted - mu_p, target - mu_t
    covariance = np.einsum("npi,npj->nij", t, p)                                       # (N, 3, 3)
    u, s, vt = np.linalg.svd(covariance)
    sign = np.sign(np.linalg.det(u @ vt))
    d = np.ones((len(predicted), 3))
    d[:, 2] = sign
    rotation = u @ (d[:, :, None] * vt)
    scale = (s * d).sum(1) / (p ** 2).sum((1, 2))
    return scale[:, None, None] * np.einsum("nij,npj->npi", rotation, p) + mu_t


def pa_error_mm(predicted: np.ndarray, target: np.ndarray) -> np.ndarray:
    """(N, P) per-point error in mm after Procrustes alignment (points in metres)."""
    return 1000 * np.linalg.norm(procrustes_align(predicted, target) - target, axis=-1)


def f_score(predicted: np.ndarray, target: np.ndarray, threshold_mm: float) -> np.ndarray:
    """(N,) F-score of aligned vertex sets (N, V, 3) in metres at ``threshold_mm``."""
    aligned = procrustes_align(predicted, target)
    scores = np.empty(len(predicted))
    for n in range(len(predicted)):
        precision = (cKDTree(target[n]).query(aligned[n])[0] * 1000 < threshold_mm).mean()
        recall = (cKDTree(aligned[n]).query(target[n])[0] * 1000 < threshold_mm).mean()
        scores[n] = 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)
    return scores


def rotation_angle_deg(predicted: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Geodesic angle in degrees between rotation matrices (..., 3, 3)."""
    cosine = (np.einsum("...ji,...jk->...ik", predicted, target).trace(axis1=-2, axis2=-1) - 1) / 2
    return np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0)))


FINGERS = ("thumb", "index", "middle", "ring", "pinky")
# Each finger's keypoints from the wrist out (OpenPose / MediaPipe order).
FINGER_CHAINS = tuple((0, 1 + 4 * f, 2 + 4 * f, 3 + 4 * f, 4 + 4 * f) for f in range(5))


def bend_angles_deg(points: np.ndarray) -> np.ndarray:
    """(..., 21, 3) keypoints -> (..., 15) bending angle at each finger joint (0 = straight), degrees,
    finger by finger (thumb first), each from its base joint out."""
    angles = []
    for chain in FINGER_CHAINS:
        for before, joint, after in zip(chain, chain[1:], chain[2:]):
            incoming = points[..., joint, :] - points[..., before, :]
            outgoing = points[..., after, :] - points[..., joint, :]
            cosine = (incoming * outgoing).sum(-1) / np.maximum(
                np.linalg.norm(incoming, axis=-1) * np.linalg.norm(outgoing, axis=-1), 1e-12)
            angles.append(np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0))))
    return np.stack(angles, -1)


def flexion_error_deg(predicted: np.ndarray, target: np.ndarray) -> np.ndarray:
    """(N, 15) absolute bending-angle error at each finger joint, degrees, keypoints (N, 21, 3)."""
    return np.abs(bend_angles_deg(predicted) - bend_angles_deg(target))
