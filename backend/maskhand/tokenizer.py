"""VQ-MANO: a VQ-VAE that turns the 16 joint rotations of a hand into discrete pose tokens.

Encoder: 1D convolutions over the 16 joints (6D rotations as channels), upsampled twice to
``num_tokens`` latents; each latent snaps to its nearest codebook entry. Decoder: the mirror
image, back to 16 rotations. The codebook learns by exponential moving averages, and codes
that fall out of use restart from live latents, so the whole codebook stays in play.
Frozen in stage 2, where its decoder turns (soft) codes into poses differentiably.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..hand_model.layout import NUM_JOINTS
from .config import TokenizerConfig


class ResidualConv(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(nn.GELU(), nn.Conv1d(channels, channels, 3, padding=1),
                                  nn.GELU(), nn.Conv1d(channels, channels, 1))

    def forward(self, x):
        return x + self.body(x)


class EMAQuantizer(nn.Module):
    """Nearest-neighbour vector quantiser with EMA codebook updates and dead-code restarts."""

    def __init__(self, codebook_size: int, code_dim: int, decay: float, dead_threshold: float):
        super().__init__()
        self.decay, self.dead_threshold = decay, dead_threshold
        self.register_buffer("codebook", torch.randn(codebook_size, code_dim) * 0.1)   # (K, D)
        self.register_buffer("ema_count", torch.ones(codebook_size))                   # (K,)
        self.register_buffer("ema_sum", self.codebook.clone())                          # (K, D)
        self.register_buffer("initialised", torch.tensor(False))

    def nearest(self, latents: torch.Tensor) -> torch.Tensor:
        """(N, D) -> (N,) indices of the nearest codes."""
        distances = (latents.pow(2).sum(1, keepdim=True) - 2 * latents @ self.codebook.T
                     + self.codebook.pow(2).sum(1)[None])
        return distances.argmin(1)

    def forward(self, latents: torch.Tensor):
        """latents (B, L, D) -> straight-through quantised (B, L, D), indices (B, L), commitment loss."""
        flat = latents.reshape(-1, latents.shape[-1])
        if self.training and not bool(self.initialised):
            self._restart(torch.ones_like(self.ema_count, dtype=torch.bool), flat.detach())
            self.initialised.fill_(True)
        indices = self.nearest(flat)
        quantised = self.codebook[indices]
        if self.training:
            self._ema_update(flat.detach(), indices)
        commitment = F.mse_loss(flat, quantised.detach())
        straight_through = flat + (quantised - flat).detach()
        return straight_through.view_as(latents), indices.view(latents.shape[:-1]), commitment

    @torch.no_grad()
    def _ema_update(self, flat: torch.Tensor, indices: torch.Tensor):
        one_hot = F.one_hot(indices, self.codebook.shape[0]).type_as(flat)              # (N, K)
        self.ema_count.mul_(self.decay).add_(one_hot.sum(0), alpha=1 - self.decay)
        self.ema_sum.mul_(self.decay).add_(one_hot.T @ flat, alpha=1 - self.decay)
        total = self.ema_count.sum()
        smoothed = (self.ema_count + 1e-5) / (total + self.codebook.shape[0] * 1e-5) * total  # Laplace smoothing
        self.codebook.copy_(self.ema_sum / smoothed[:, None])
        self._restart(self.ema_count < self.dead_threshold, flat)

    @torch.no_grad()
    def _restart(self, dead: torch.Tensor, flat: torch.Tensor):
        count = int(dead.sum())
        if count == 0:
            return
        picks = torch.randint(0, flat.shape[0], (count,), device=flat.device)
        fresh = flat[picks] + 0.01 * flat.std() * torch.randn_like(flat[picks])
        restart_count = max(1.0, self.dead_threshold)
        self.codebook[dead] = fresh
        self.ema_sum[dead] = fresh * restart_count
        self.ema_count[dead] = restart_count


class VQMano(nn.Module):
    """16 joint rotations (B, 16, 6) <-> ``num_tokens`` code indices (B, L)."""

    def __init__(self, config: TokenizerConfig):
        super().__init__()
        if config.num_tokens % NUM_JOINTS or (config.num_tokens // NUM_JOINTS) & (config.num_tokens // NUM_JOINTS - 1):
            raise ValueError(f"num_tokens must be 16 times a power of two, not {config.num_tokens}")
        self.config = config
        hidden, upsamplings = config.hidden, (config.num_tokens // NUM_JOINTS).bit_length() - 1

        encoder = [nn.Conv1d(6, hidden, 3, padding=1), *[ResidualConv(hidden) for _ in range(config.depth)]]
        for _ in range(upsamplings):
            encoder += [nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv1d(hidden, hidden, 3, padding=1),
                        *[ResidualConv(hidden) for _ in range(config.depth)]]
        encoder += [nn.GELU(), nn.Conv1d(hidden, config.code_dim, 1)]
        self.encoder = nn.Sequential(*encoder)

        decoder = [nn.Conv1d(config.code_dim, hidden, 3, padding=1), *[ResidualConv(hidden) for _ in range(config.depth)]]
        for _ in range(upsamplings):
            decoder += [nn.Conv1d(hidden, hidden, 4, stride=2, padding=1),
                        *[ResidualConv(hidden) for _ in range(config.depth)]]
        decoder += [nn.GELU(), nn.Conv1d(hidden, 6, 1)]
        self.decoder = nn.Sequential(*decoder)
        self.quantizer = EMAQuantizer(config.codebook_size, config.code_dim, config.ema_decay,
                                      config.dead_code_threshold)

    @property
    def codebook(self) -> torch.Tensor:
        return self.quantizer.codebook                                                  # (K, D)

    def encode_latents(self, rotation_6d: torch.Tensor) -> torch.Tensor:
        """(B, 16, 6) -> continuous latents (B, L, D)."""
        return self.encoder(rotation_6d.transpose(1, 2)).transpose(1, 2)

    def encode(self, rotation_6d: torch.Tensor) -> torch.Tensor:
        """(B, 16, 6) -> code indices (B, L)."""
        latents = self.encode_latents(rotation_6d)
        return self.quantizer.nearest(latents.reshape(-1, latents.shape[-1])).view(latents.shape[:2])

    def decode_codes(self, codes: torch.Tensor) -> torch.Tensor:
        """Code vectors (B, L, D), hard or soft -> 6D rotations (B, 16, 6)."""
        return self.decoder(codes.transpose(1, 2)).transpose(1, 2)

    def decode(self, indices: torch.Tensor) -> torch.Tensor:
        """Code indices (B, L) -> 6D rotations (B, 16, 6)."""
        return self.decode_codes(self.codebook[indices])

    def forward(self, rotation_6d: torch.Tensor):
        """-> reconstructed 6D rotations (B, 16, 6), indices (B, L), commitment loss."""
        quantised, indices, commitment = self.quantizer(self.encode_latents(rotation_6d))
        return self.decode_codes(quantised), indices, commitment
