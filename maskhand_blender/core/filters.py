"""Confidence-weighted smoothing and gap filling of bone rotations (quaternions over frames). bpy-free.

Smoothing solves, per bone, a small least-squares problem over the frames:

    minimise  sum_n w_n |x_n - q_n|^2  +  lambda * sum_n |x_{n-1} - 2 x_n + x_{n+1}|^2

with q the keyed quaternions (signs made continuous), w_n the confidence of frame n and the
second difference penalising jerky motion. Sure frames get a weight so large that they stay
where they are (well under half a degree); unsure frames are pulled towards the path their sure
neighbours define. The result is renormalised to unit quaternions. This is a Whittaker
smoother with per-frame weights, the standard tool for exactly this (Eilers 2003); Blender's own
Butterworth and Gaussian filters weight every key alike, which is why they are not used here.
"""
from __future__ import annotations

import numpy as np

from .rotations import continuous_quaternions

SURE_WEIGHT = 1e6


def confidence_weights(uncertainty: np.ndarray, threshold: float) -> np.ndarray:
    """(N,) weights in (0, SURE_WEIGHT]: frames at or below ``threshold`` degrees are sure."""
    uncertainty = np.asarray(uncertainty, np.float64)
    unsure = np.clip(threshold / np.maximum(uncertainty, 1e-9), 0.0, 1.0) ** 2 * 0.1   # at most 0.1 when unsure
    return np.where(uncertainty <= threshold, SURE_WEIGHT, np.maximum(unsure, 1e-4))


WINDOW_MARGIN = 12  # sure frames on each side of an unsure run that take part in its solve


def smooth_quaternions(quaternions: np.ndarray, weights: np.ndarray, strength: float = 4.0) -> np.ndarray:
    """Quaternions (N, 4) over consecutive frames, weights (N,) -> smoothed unit quaternions (N, 4).

    Sure frames are pinned, so each run of unsure frames is solved on its own small window (the run
    and WINDOW_MARGIN frames either side): cost stays linear in the capture's length."""
    quaternions = continuous_quaternions(quaternions)
    smoothed = quaternions.copy()
    unsure = np.flatnonzero(weights < SURE_WEIGHT)
    if len(unsure) == 0:
        return smoothed
    runs = np.split(unsure, np.flatnonzero(np.diff(unsure) > 2 * WINDOW_MARGIN) + 1)
    for run in runs:
        window = slice(max(run[0] - WINDOW_MARGIN, 0), min(run[-1] + WINDOW_MARGIN + 1, len(quaternions)))
        count = window.stop - window.start
        if count < 3:
            continue
        difference = np.diff(np.eye(count), 2, axis=0)                    # (n-2, n) second differences
        system = np.diag(weights[window]) + strength * difference.T @ difference
        solved = np.linalg.solve(system, weights[window, None] * quaternions[window])
        smoothed[window] = solved / np.linalg.norm(solved, axis=1, keepdims=True)
    return smoothed


def slerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Spherical interpolation between unit quaternions a, b (4,) at fractions t (M,) -> (M, 4)."""
    if a @ b < 0:
        b = -b
    cosine = float(np.clip(a @ b, -1.0, 1.0))
    angle = np.arccos(cosine)
    if angle < 1e-6:
        result = (1 - t)[:, None] * a + t[:, None] * b
    else:
        result = (np.sin((1 - t) * angle)[:, None] * a + np.sin(t * angle)[:, None] * b) / np.sin(angle)
    return result / np.linalg.norm(result, axis=1, keepdims=True)


def fill_gaps(frames: np.ndarray, quaternions: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Quaternions (N, 4) at ``frames`` (N,), where ``known`` is False, by slerp between the known neighbours.

    Frames before the first or after the last known one take that one's rotation."""
    known_rows = np.flatnonzero(known)
    if len(known_rows) == 0:
        raise ValueError("no frame with a hand to fill from")
    filled = np.array(quaternions, np.float64)
    for row in np.flatnonzero(~known):
        after = known_rows[np.searchsorted(known_rows, row)] if row < known_rows[-1] else None
        before = known_rows[np.searchsorted(known_rows, row) - 1] if row > known_rows[0] else None
        if before is None or after is None:
            filled[row] = filled[after if before is None else before]
            continue
        t = (frames[row] - frames[before]) / (frames[after] - frames[before])
        filled[row] = slerp(filled[before], filled[after], np.array([t]))[0]
    return filled
