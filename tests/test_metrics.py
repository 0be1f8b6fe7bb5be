"""Evaluation metrics on cases with known answers."""
import numpy as np
from scipy.spatial.transform import Rotation

from backend.metrics import f_score, pa_error_mm, procrustes_align, rotation_angle_deg


def test_procrustes_undoes_a_similarity_transform():
    rng = np.random.default_rng(0)
    target = rng.normal(scale=0.05, size=(4, 21, 3))
    rotation = Rotation.random(4, random_state=1).as_matrix()
    moved = 1.7 * np.einsum("nij,npj->npi", rotation, target) + rng.normal(size=(4, 1, 3))
    assert np.allclose(procrustes_align(moved, target), target, atol=1e-9)
    assert pa_error_mm(moved, target).max() < 1e-6


def test_pa_error_of_a_known_offset():
    target = np.zeros((1, 4, 3))
    target[0, :, 0] = [0.0, 0.01, 0.02, 0.03]
    target[0, :, 1] = [0.0, 0.02, 0.0, 0.02]
    predicted = target.copy()
    predicted[0, 0, 2] += 0.004  # 4 mm out of the plane at one point: alignment cannot remove all of it
    error = pa_error_mm(predicted, target)
    assert 0 < error.mean() < 4


def test_f_score_and_angles():
    points = np.random.default_rng(2).normal(scale=0.05, size=(2, 50, 3))
    assert np.allclose(f_score(points, points, 5.0), 1.0)
    far = points.copy()
    far[:, :25] += 0.05  # half the vertices 50 mm off (beyond the alignment's reach to hide)
    assert f_score(far, points, 5.0).mean() < 0.9
    a = Rotation.from_rotvec([[0, 0, np.radians(30)]]).as_matrix()
    assert np.allclose(rotation_angle_deg(a, np.eye(3)[None]), 30.0)
