"""Temporal mode (backend.capture.temporal): hypotheses weighed by how well they continue the motion."""
import numpy as np

from backend.capture.temporal import temporal_weights, weighted_poses


def moving_hypotheses(frames=20, k=4, seed=0):
    """A finger bending steadily; each frame's K hypotheses scatter around the truth, and at frame 10
    the best-scored one is far off (an ambiguous frame)."""
    rng = np.random.default_rng(seed)
    truth = np.zeros((frames, 16, 3))
    truth[:, 1:, 2] = np.linspace(0.0, 0.8, frames)[:, None]
    samples = truth[:, None] + rng.normal(0, 0.03, (frames, k, 16, 3))
    scores = np.zeros((frames, k))
    samples[10, 0, 1:, 2] += 0.9
    scores[10, 0] = 1.0
    return truth, samples, scores


def test_an_ambiguous_frame_follows_its_neighbours():
    truth, samples, scores = moving_hypotheses()
    weights = temporal_weights(samples, scores, np.ones(len(scores), bool))
    assert np.allclose(weights.sum(1), 1.0)
    assert weights[10, 0] < 0.01  # the off-motion hypothesis hardly counts, although it scored best
    pose = weighted_poses(samples, weights)
    error = np.abs(pose[10, 1:, 2] - truth[10, 1:, 2]).mean()
    assert error < 0.05 < np.abs(samples[10, 0, 1:, 2] - truth[10, 1:, 2]).mean()


def test_runs_are_independent_and_frames_without_a_hand_weigh_nothing():
    truth, samples, scores = moving_hypotheses()
    valid = np.ones(len(scores), bool)
    valid[5] = False
    weights = temporal_weights(samples, scores, valid)
    assert np.all(weights[5] == 0) and np.allclose(weights[valid].sum(1), 1.0)
    alone = temporal_weights(samples[6:], scores[6:], valid[6:])
    assert np.allclose(weights[6:], alone)  # frames before the gap do not reach past it
