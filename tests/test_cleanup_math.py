"""Uncertainty spans, confidence-weighted smoothing and gap filling, without Blender."""
import numpy as np

from maskhand_blender.core.filters import confidence_weights, fill_gaps, smooth_quaternions
from maskhand_blender.core.rotations import axis_angle_to_matrix, matrix_to_quaternion, quaternion_to_matrix
from maskhand_blender.core.spans import uncertain_spans


def angles_deg(a, b):
    relative = np.swapaxes(quaternion_to_matrix(a), -1, -2) @ quaternion_to_matrix(b)
    return np.degrees(np.arccos(np.clip((np.trace(relative, axis1=-2, axis2=-1) - 1) / 2, -1, 1)))


def jitter(quaternions):
    """Mean angular acceleration (degrees / frame^2): how far each frame leaves the midpoint of its neighbours."""
    matrices = quaternion_to_matrix(quaternions)
    middle = matrix_to_quaternion(matrices[:-2]) + matrix_to_quaternion(matrices[2:])
    return angles_deg(quaternions[1:-1], middle / np.linalg.norm(middle, axis=1, keepdims=True)).mean()


def smooth_path(frames=120):
    t = np.linspace(0, 1, frames)[:, None]
    return matrix_to_quaternion(axis_angle_to_matrix(np.concatenate([1.2 * np.sin(3 * t), 0.4 * t, 0.3 * np.cos(2 * t)], 1)))


def test_uncertain_spans_follow_the_threshold():
    uncertainty = np.full((20, 16), 5.0)
    uncertainty[4:7, 3] = 40.0
    uncertainty[8, 9] = 25.0
    valid = np.ones(20, bool)
    valid[15:17] = False
    spans = uncertain_spans(uncertainty, valid, threshold=20.0)
    assert [(s.start, s.end) for s in spans] == [(4, 8), (15, 16)]   # 4-6 and 8 merge across one sure frame
    assert spans[0].worst_joint == 3 and spans[0].worst == 40.0 and spans[1].worst == np.inf
    assert [(s.start, s.end) for s in uncertain_spans(uncertainty, valid, 30.0)] == [(4, 6), (15, 16)]
    assert uncertain_spans(uncertainty, np.ones(20, bool), 50.0) == []


def test_smoothing_halves_jitter_on_unsure_frames_and_keeps_sure_ones():
    rng = np.random.default_rng(0)
    truth = smooth_path()
    noisy = truth.copy()
    unsure = np.zeros(len(truth), bool)
    unsure[30:45] = unsure[80:90] = True
    noise = axis_angle_to_matrix(rng.normal(0, 0.15, (unsure.sum(), 3)))
    noisy[unsure] = matrix_to_quaternion(noise @ quaternion_to_matrix(truth[unsure]))
    uncertainty = np.where(unsure, 35.0, 4.0)
    smoothed = smooth_quaternions(noisy, confidence_weights(uncertainty, threshold=15.0))
    for span in (slice(29, 46), slice(79, 91)):
        assert jitter(smoothed[span]) < 0.5 * jitter(noisy[span])
    assert angles_deg(smoothed[~unsure], noisy[~unsure]).max() < 0.5
    assert angles_deg(smoothed[unsure], truth[unsure]).mean() < angles_deg(noisy[unsure], truth[unsure]).mean()


def test_fill_gaps_puts_a_continuous_key_on_every_missing_frame():
    truth = smooth_path(60)
    known = np.ones(60, bool)
    known[20:31] = False
    known[:3] = False
    filled = fill_gaps(np.arange(60.0), np.where(known[:, None], truth, 0.0), known)
    assert np.allclose(np.linalg.norm(filled, axis=1), 1.0)
    assert np.allclose(filled[known], truth[known])
    steps = angles_deg(filled[1:], filled[:-1])
    assert steps[18:32].max() < 2 * angles_deg(truth[1:], truth[:-1]).max()   # no jump into or out of the gap
    assert np.allclose(filled[:3], truth[3])                                   # before the first hand: held
