"""Rotation helpers in numpy, vectorised over frames: what the retarget needs and mathutils does one at a time.

Blender's Python has numpy but not scipy; mathutils works on one matrix per call, far too slow
for thousands of frames times dozens of bones. Quaternions are (w, x, y, z), Blender's order.
"""
from __future__ import annotations

import numpy as np


def axis_angle_to_matrix(axis_angle: np.ndarray) -> np.ndarray:
    """(..., 3) -> (..., 3, 3) by Rodrigues' formula."""
    axis_angle = np.asarray(axis_angle, np.float64)
    angle = np.linalg.norm(axis_angle, axis=-1, keepdims=True)
    axis = axis_angle / np.maximum(angle, 1e-12)
    x, y, z = np.moveaxis(axis, -1, 0)
    zero = np.zeros_like(x)
    cross = np.stack([zero, -z, y, z, zero, -x, -y, x, zero], -1).reshape(axis.shape[:-1] + (3, 3))
    sin, cos = np.sin(angle)[..., None], np.cos(angle)[..., None]
    return np.eye(3) + sin * cross + (1 - cos) * cross @ cross


def matrix_to_quaternion(matrix: np.ndarray) -> np.ndarray:
    """(..., 3, 3) rotations -> (..., 4) unit quaternions (w, x, y, z), w >= 0.

    Of the four algebraically equal formulas, each element uses the one with the largest
    denominator, which is well conditioned for every rotation (Shepperd's method)."""
    m = np.asarray(matrix, np.float64)
    trace = m[..., 0, 0] + m[..., 1, 1] + m[..., 2, 2]
    candidates = np.stack([
        np.stack([1 + trace, m[..., 2, 1] - m[..., 1, 2], m[..., 0, 2] - m[..., 2, 0], m[..., 1, 0] - m[..., 0, 1]], -1),
        np.stack([m[..., 2, 1] - m[..., 1, 2], 1 + 2 * m[..., 0, 0] - trace, m[..., 0, 1] + m[..., 1, 0],
                  m[..., 0, 2] + m[..., 2, 0]], -1),
        np.stack([m[..., 0, 2] - m[..., 2, 0], m[..., 0, 1] + m[..., 1, 0], 1 + 2 * m[..., 1, 1] - trace,
                  m[..., 1, 2] + m[..., 2, 1]], -1),
        np.stack([m[..., 1, 0] - m[..., 0, 1], m[..., 0, 2] + m[..., 2, 0], m[..., 1, 2] + m[..., 2, 1],
                  1 + 2 * m[..., 2, 2] - trace], -1),
    ], -2)                                                                    # (..., 4, 4)
    best = np.argmax(np.stack([trace, m[..., 0, 0], m[..., 1, 1], m[..., 2, 2]], -1), -1)
    quaternion = np.take_along_axis(candidates, best[..., None, None], -2)[..., 0, :]
    quaternion /= np.linalg.norm(quaternion, axis=-1, keepdims=True)
    return np.where(quaternion[..., :1] < 0, -quaternion, quaternion)


def quaternion_to_matrix(quaternion: np.ndarray) -> np.ndarray:
    """(..., 4) (w, x, y, z) -> (..., 3, 3)."""
    q = np.asarray(quaternion, np.float64)
    q = q / np.linalg.norm(q, axis=-1, keepdims=True)
    w, x, y, z = np.moveaxis(q, -1, 0)
    return np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
                     2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
                     2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], -1).reshape(q.shape[:-1] + (3, 3))


def continuous_quaternions(quaternions: np.ndarray) -> np.ndarray:
    """(N, ..., 4) over frames -> the same rotations with signs chosen so consecutive frames agree.

    q and -q are one rotation, but F-curves interpolate the numbers: a sign flip between two
    keys would swing the bone the long way round."""
    quaternions = np.array(quaternions, np.float64)
    for n in range(1, len(quaternions)):
        flip = (quaternions[n] * quaternions[n - 1]).sum(-1, keepdims=True) < 0
        quaternions[n] = np.where(flip, -quaternions[n], quaternions[n])
    return quaternions


def rotation_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The smallest rotation (..., 3, 3) that turns direction a (..., 3) onto direction b (..., 3)."""
    a = a / np.linalg.norm(a, axis=-1, keepdims=True)
    b = b / np.linalg.norm(b, axis=-1, keepdims=True)
    axis = np.cross(a, b)
    sin = np.linalg.norm(axis, axis=-1, keepdims=True)
    cos = (a * b).sum(-1, keepdims=True)
    # Opposite directions: any axis perpendicular to a will do.
    fallback = np.cross(a, np.where(np.abs(a[..., :1]) < 0.9, [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]))
    axis = np.where(sin > 1e-9, axis, fallback)
    axis /= np.linalg.norm(axis, axis=-1, keepdims=True)
    return axis_angle_to_matrix(axis * np.arctan2(sin, cos))


def frame_from_vectors(forward: np.ndarray, side: np.ndarray) -> np.ndarray:
    """An orthonormal frame (3, 3) whose columns are forward, side made perpendicular to it, and their cross."""
    first = forward / np.linalg.norm(forward)
    second = side - (side @ first) * first
    second /= np.linalg.norm(second)
    return np.stack([first, second, np.cross(first, second)], 1)
