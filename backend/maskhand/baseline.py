"""The discriminative comparison: direct regression of the pose from the same context.

Same context encoder, same synthesizer layers and the same shape / camera head as MaskHand,
but 16 learned joint queries regress 6D rotations directly instead of predicting tokens.
Trained on the same data with the same pose losses (no token loss), it answers the paper's
question: what does generating the pose as tokens buy?
"""
from __future__ import annotations

import torch
from torch import nn

from ..hand_model.layout import NUM_JOINTS
from .config import TransformerConfig
from .heads import ShapeCameraHead
from .transformer import ContextEncoder, SynthesizerLayer


class DirectRegressor(nn.Module):
    """cues (B, 21, 3)[, image] -> 6D rotations (B, 16, 6), betas (B, 10), camera (B, 3)."""

    def __init__(self, config: TransformerConfig):
        super().__init__()
        self.context = ContextEncoder(config)
        self.queries = nn.Parameter(torch.randn(NUM_JOINTS + 1, config.dim) * 0.02)
        self.layers = nn.ModuleList([SynthesizerLayer(config.dim, config.heads, config.ffn_multiplier, config.dropout)
                                     for _ in range(config.layers)])
        self.norm = nn.LayerNorm(config.dim)
        self.rotation = nn.Linear(config.dim, 6)
        self.head = ShapeCameraHead(config.dim, config.heads, config.head_layers, config.ffn_multiplier,
                                    config.dropout, config.num_betas)
        identity_6d = torch.tensor([1.0, 0.0, 0.0, 0.0, 1.0, 0.0])
        nn.init.zeros_(self.rotation.weight)
        with torch.no_grad():
            self.rotation.bias.copy_(identity_6d)

    def forward(self, cues: torch.Tensor, image: torch.Tensor | None = None):
        context, cue_token = self.context(cues, image)
        x = self.queries.expand(cues.shape[0], -1, -1).clone()
        x[:, 0] = x[:, 0] + cue_token
        for layer in self.layers:
            x = layer(x, context)
        x = self.norm(x)
        betas, camera = self.head(torch.cat([context, x], 1))
        return self.rotation(x[:, 1:]), betas, camera
