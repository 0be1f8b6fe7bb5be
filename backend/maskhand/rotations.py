"""Rotation conversions (batched torch): axis-angle, matrices, the continuous 6D form, angles.

Written here because no installed library offers the batched, differentiable torch versions
(pytorch3d is not installable here; scipy is numpy-only). The 6D form is Zhou et al. 2019's:
the first two columns of the matrix, re-orthonormalised by Gram-Schmidt.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from smplx.lbs import batch_rodrigues


def axis_angle_to_matrix(axis_angle: torch.Tensor) -> torch.Tensor:
    """(..., 3) -> (..., 3, 3)."""
    shape = axis_angle.shape[:-1]
    return batch_rodrigues(axis_angle.reshape(-1, 3)).reshape(*shape, 3, 3)


def matrix_to_axis_angle(matrix: torch.Tensor) -> torch.Tensor:
    """(..., 3, 3) -> (..., 3), angle in [0, pi], through the quaternion (stable near 0 and pi)."""
    return quaternion_to_axis_angle(matrix_to_quaternion(matrix))


def matrix_to_quaternion(matrix: torch.Tensor) -> torch.Tensor:
    """(..., 3, 3) -> (..., 4) unit quaternions (w, x, y, z) with w >= 0."""
    m = matrix
    diagonal = torch.stack([m[..., 0, 0], m[..., 1, 1], m[..., 2, 2]], -1)
    trace = diagonal.sum(-1)
    # Four candidate solutions; use the one with the largest (best conditioned) denominator.
    candidates = torch.stack([
        torch.stack([1 + trace, m[..., 2, 1] - m[..., 1, 2], m[..., 0, 2] - m[..., 2, 0], m[..., 1, 0] - m[..., 0, 1]], -1),
        torch.stack([m[..., 2, 1] - m[..., 1, 2], 1 + 2 * m[..., 0, 0] - trace, m[..., 0, 1] + m[..., 1, 0], m[..., 0, 2] + m[..., 2, 0]], -1),
        torch.stack([m[..., 0, 2] - m[..., 2, 0], m[..., 0, 1] + m[..., 1, 0], 1 + 2 * m[..., 1, 1] - trace, m[..., 1, 2] + m[..., 2, 1]], -1),
        torch.stack([m[..., 1, 0] - m[..., 0, 1], m[..., 0, 2] + m[..., 2, 0], m[..., 1, 2] + m[..., 2, 1], 1 + 2 * m[..., 2, 2] - trace], -1),
    ], -2)                                                               # (..., 4, 4)
    best = torch.cat([trace[..., None], diagonal], -1).argmax(-1)         # (...,)
    quaternion = torch.gather(candidates, -2, best[..., None, None].expand(*best.shape, 1, 4)).squeeze(-2)
    quaternion = F.normalize(quaternion, dim=-1)
    return torch.where(quaternion[..., :1] < 0, -quaternion, quaternion)


def quaternion_to_axis_angle(quaternion: torch.Tensor) -> torch.Tensor:
    """(..., 4) (w, x, y, z) -> (..., 3)."""
    quaternion = torch.where(quaternion[..., :1] < 0, -quaternion, quaternion)
    sin_half = quaternion[..., 1:].norm(dim=-1, keepdim=True)
    angle = 2 * torch.atan2(sin_half, quaternion[..., :1])
    # angle / sin(angle / 2) -> 2 as the angle -> 0
    scale = torch.where(sin_half > 1e-6, angle / sin_half.clamp_min(1e-12), 2.0 + angle ** 2 / 12)
    return quaternion[..., 1:] * scale


def matrix_to_rotation_6d(matrix: torch.Tensor) -> torch.Tensor:
    """(..., 3, 3) -> (..., 6): the first two columns."""
    return torch.cat([matrix[..., :, 0], matrix[..., :, 1]], -1)


def rotation_6d_to_matrix(rotation_6d: torch.Tensor) -> torch.Tensor:
    """(..., 6) -> (..., 3, 3) by Gram-Schmidt; any input gives a valid rotation."""
    first = F.normalize(rotation_6d[..., :3], dim=-1)
    second = rotation_6d[..., 3:]
    second = F.normalize(second - (first * second).sum(-1, keepdim=True) * first, dim=-1)
    third = torch.cross(first, second, dim=-1)
    return torch.stack([first, second, third], -1)


def axis_angle_to_rotation_6d(axis_angle: torch.Tensor) -> torch.Tensor:
    return matrix_to_rotation_6d(axis_angle_to_matrix(axis_angle))


def rotation_6d_to_axis_angle(rotation_6d: torch.Tensor) -> torch.Tensor:
    return matrix_to_axis_angle(rotation_6d_to_matrix(rotation_6d))


def geodesic_angle(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Angle in radians between rotation matrices (..., 3, 3)."""
    cosine = ((a.transpose(-1, -2) @ b).diagonal(dim1=-2, dim2=-1).sum(-1) - 1) / 2
    return torch.acos(cosine.clamp(-1 + 1e-7, 1 - 1e-7))


def chordal_mean(matrices: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Weighted mean of rotations (B, K, ..., 3, 3) with weights (B, K) summing to 1 -> (B, ..., 3, 3).

    The chordal L2 mean: the weighted sum of the matrices projected back onto SO(3) by SVD
    (Hartley et al. 2013), the closed form that is exact for nearby rotations.
    """
    weights = weights.view(*weights.shape, *([1] * (matrices.dim() - weights.dim())))
    u, _, vt = torch.linalg.svd((weights * matrices).sum(1))
    # Flip the last singular direction where needed so the result is a rotation, not a reflection.
    sign = torch.sign(torch.linalg.det(u @ vt))
    u = torch.cat([u[..., :2], u[..., 2:] * sign[..., None, None]], -1)
    return u @ vt
