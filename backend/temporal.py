"""Temporal mode: choose one of the K sampled hypotheses per frame along the smoothest likely path.

Per contiguous run of frames where a hand was found, a Viterbi pass minimises
``sum(-score[n, k_n]) + weight * sum(mean joint angle between k_{n-1} and k_n)``: a hypothesis
the network rated lower wins where it continues the motion, so a frame that is ambiguous on
its own no longer jumps to another hand shape. Scores are the sampler's ranking scores.
"""
from __future__ import annotations

import numpy as np
import torch

from .maskhand.rotations import axis_angle_to_matrix, geodesic_angle

DEFAULT_WEIGHT = 2.0  # per radian of mean joint angle between consecutive frames


def smoothest_path(samples: np.ndarray, scores: np.ndarray, valid: np.ndarray, weight: float = DEFAULT_WEIGHT):
    """samples (N, K, 16, 3), scores (N, K), valid (N,) -> chosen hypothesis per frame (N,) int."""
    count = scores.shape[0]
    chosen = np.zeros(count, dtype=np.int64)
    start = 0
    while start < count:
        if not valid[start]:
            start += 1
            continue
        end = start
        while end < count and valid[end]:
            end += 1
        chosen[start:end] = _viterbi(samples[start:end], scores[start:end], weight)
        start = end
    return chosen


def _viterbi(samples: np.ndarray, scores: np.ndarray, weight: float) -> np.ndarray:
    """One run of valid frames; rotation matrices are made two frames at a time, so memory stays flat."""
    frames, k = scores.shape
    cost = -scores[0].astype(np.float64)
    back = np.zeros((frames, k), dtype=np.int64)
    current = axis_angle_to_matrix(torch.as_tensor(samples[0], dtype=torch.float32))       # (K, 16, 3, 3)
    for n in range(1, frames):
        previous, current = current, axis_angle_to_matrix(torch.as_tensor(samples[n], dtype=torch.float32))
        transition = weight * geodesic_angle(previous[:, None], current[None]).mean(-1).double().numpy()  # (K, K)
        total = cost[:, None] + transition
        back[n] = total.argmin(0)
        cost = total.min(0) - scores[n]
    path = np.empty(frames, dtype=np.int64)
    path[-1] = int(cost.argmin())
    for n in range(frames - 1, 0, -1):
        path[n - 1] = back[n, path[n]]
    return path
