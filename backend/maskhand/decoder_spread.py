"""How far each joint would move if every position took another code from its distribution:
the part of the per-joint uncertainty that the spread between hypotheses leaves out.

A hypothesis is decoded from expected codes (the softmax-weighted codebook mean of each position,
see ``sampling``). The spread of the K hypotheses around their mean only measures how far the draws
that steer later iterations move each joint; it leaves out how unsure the model is of each position
itself. That is the codes' covariance carried through the decoder (the delta method): per joint j,
``sum_p trace(J_jp Sigma_p J_jp^T)`` with ``J_jp`` the decoder's Jacobian of joint j's rotation with
respect to position p's code and ``Sigma_p`` the covariance of the codes under position p's distribution.

The Jacobian is taken by finite differences through ``engine.decode_codes`` so that torch and ONNX
Runtime run the same code. It is cheap because the decoder is a small convolution net: each joint
depends on only a window of the token positions (about 26 of 64), so positions whose windows share no
joint are perturbed in the same probe (the Curtis-Powell-Reid colouring of a sparse Jacobian), and each
position is perturbed only along the ``directions`` leading eigenvectors of its covariance.
"""
from __future__ import annotations

import torch

from .rotations import rotation_6d_to_matrix


class DecoderSpread:
    """Per-joint spread of a code distribution through an engine's decoder (``engine.decode_codes``)."""

    # Probes move each code by 1 % of a standard deviation: far inside the decoder's curvature, while float32
    # rounding of the decoded rotations (about 1e-7) stays near 2e-3 degrees over all probes.
    # ``chunk_rows`` bounds the decoder's activations per call (about 130 MB a layer at 8192 rows).
    def __init__(self, engine, num_tokens: int, code_dim: int, relative_step: float = 1e-2, chunk_rows: int = 8192):
        self.engine, self.step, self.chunk_rows = engine, relative_step, chunk_rows
        self.colour = probe_colours(token_dependencies(engine, num_tokens, code_dim))     # (L,)
        self.num_colours = int(self.colour.max()) + 1

    @torch.no_grad()
    def __call__(self, codes: torch.Tensor, covariance: torch.Tensor, directions: int) -> torch.Tensor:
        """codes (M, L, D) expected codes, covariance (M, L, D, D) of each position's codes -> (M, 16) degrees,
        following each position's ``directions`` leading eigenvectors (all D gives the exact delta method)."""
        rows, length, dim = codes.shape
        if not 1 <= directions <= dim:
            raise ValueError(f"directions must be 1 to {dim} (the code dimension), not {directions}")
        eigenvalues, eigenvectors = torch.linalg.eigh(covariance)                          # ascending
        eigenvalues, eigenvectors = eigenvalues[..., dim - directions:], eigenvectors[..., dim - directions:]
        scaled = eigenvectors * eigenvalues[..., None, :].clamp_min(0).sqrt()
        scaled = scaled.transpose(-1, -2)                                                  # (M, L, r, D)
        colour = self.colour.to(codes.device)
        in_colour = colour[None, :] == torch.arange(self.num_colours, device=codes.device)[:, None]   # (colours, L)
        # probes (M, colours, r, L, D): colour c's positions moved along their r-th direction, the rest still
        probes = in_colour[None, :, None, :, None] * scaled.permute(0, 2, 1, 3)[:, None]
        probes = probes.reshape(rows, -1, length, dim)
        moved = codes[:, None] + self.step * probes                                        # (M, P, L, D)
        flat = torch.cat([codes[:, None], moved], 1).reshape(-1, length, dim)
        rotations = torch.cat([self.engine.decode_codes(part) for part in flat.split(self.chunk_rows)])
        matrices = rotation_6d_to_matrix(rotations).view(rows, -1, 16, 3, 3)
        relative = matrices[:, :1].transpose(-1, -2) @ matrices[:, 1:]                     # (M, P, 16, 3, 3)
        skew = (relative - relative.transpose(-1, -2)) / (2 * self.step)
        omega = torch.stack([skew[..., 2, 1], skew[..., 0, 2], skew[..., 1, 0]], -1)       # (M, P, 16, 3) rad
        return torch.rad2deg(omega.square().sum((1, 3)).sqrt())


@torch.no_grad()
def token_dependencies(engine, num_tokens: int, code_dim: int) -> torch.Tensor:
    """(L, 16) bool: whether joint j's decoded rotation changes when position p's code does."""
    device = engine.codebook.device
    base = torch.zeros(1, num_tokens, code_dim, device=device)
    moved = base.repeat(num_tokens, 1, 1)
    moved[torch.arange(num_tokens), torch.arange(num_tokens)] = 1.0
    decoded = engine.decode_codes(torch.cat([base, moved]))                               # (L + 1, 16, 6)
    change = (decoded[1:] - decoded[:1]).abs().amax(-1)                                    # (L, 16)
    # Outside a joint's window the change is exactly zero (the convolutions never reach it); the tolerance
    # only absorbs rounding. On the CPU: the colouring is a small loop, done once per engine.
    return (change > 1e-6 * change.max()).cpu()


def probe_colours(dependencies: torch.Tensor) -> torch.Tensor:
    """Greedy colouring of the positions: two positions share a colour only if no joint depends on both."""
    clash = (dependencies.float() @ dependencies.float().T) > 0                            # (L, L)
    colour = torch.full((len(clash),), -1, dtype=torch.long)
    for position in range(len(clash)):
        taken = set(colour[clash[position] & (colour >= 0)].tolist())
        colour[position] = next(c for c in range(len(clash)) if c not in taken)
    return colour
