"""The context-guided masked transformer: pose tokens in, logits over the codebook out.

Sequence: [cue token] + L pose tokens (a code index, or MASK). Each synthesizer layer does
self-attention over the sequence, cross-attention to the context (per-keypoint cue features,
plus ViT patch features in a full checkpoint) and an FFN. The shape / camera head reads the
context and the synthesizer's output by cross-attention.
"""
from __future__ import annotations

import torch
from torch import nn

from ..context.image import ViTEncoder
from ..context.pose_cues import CUE_CHANNELS_2D, CUE_CHANNELS_3D, PoseCueEncoder
from .config import TokenizerConfig, TransformerConfig
from .heads import CrossAttentionLayer, ShapeCameraHead, attend


class SynthesizerLayer(nn.Module):
    def __init__(self, dim: int, heads: int, ffn_multiplier: int, dropout: float):
        super().__init__()
        self.self_norm = nn.LayerNorm(dim)
        self.self_attention = nn.MultiheadAttention(dim, heads, dropout=dropout, batch_first=True)
        self.cross = CrossAttentionLayer(dim, heads, ffn_multiplier, dropout)

    def forward(self, x, context):
        normed = self.self_norm(x)
        x = x + attend(self.self_attention, normed, normed)
        return self.cross(x, context)


class ContextEncoder(nn.Module):
    """cues (B, 21, 3 or 7) [+ image (B, 3, H, W)] -> context memory (B, M, C), cue token (B, C)."""

    def __init__(self, config: TransformerConfig):
        super().__init__()
        self.cues = PoseCueEncoder(config.dim, config.cue_layers, config.refinement_blocks, config.heads,
                                   config.dropout, CUE_CHANNELS_3D if config.landmarks_3d else CUE_CHANNELS_2D)
        self.image = None
        if config.image_encoder == "vit":
            self.image = ViTEncoder(config.image_size, config.vit_patch, config.vit_dim, config.vit_layers,
                                    config.vit_heads, config.dim)
        elif config.image_encoder is not None:
            raise ValueError(f"unknown image encoder {config.image_encoder!r} (expected None or 'vit')")

    def forward(self, cues: torch.Tensor, image: torch.Tensor | None = None):
        features, cue_token = self.cues(cues)
        if self.image is not None:
            if image is None:
                raise ValueError("this checkpoint conditions on the image crop: pass `image`")
            features = torch.cat([features, self.image(image)], 1)
        return features, cue_token


class MaskedPoseTransformer(nn.Module):
    """(tokens (B, L) with MASK = K, cues (B, 21, 3)[, image]) -> logits (B, L, K), betas (B, 10), camera (B, 3)."""

    def __init__(self, config: TransformerConfig, tokenizer: TokenizerConfig):
        super().__init__()
        self.config = config
        self.mask_index = tokenizer.codebook_size
        self.context = ContextEncoder(config)
        self.token_embedding = nn.Embedding(tokenizer.codebook_size + 1, config.dim)
        self.position = nn.Parameter(torch.randn(tokenizer.num_tokens + 1, config.dim) * 0.02)
        self.layers = nn.ModuleList([SynthesizerLayer(config.dim, config.heads, config.ffn_multiplier, config.dropout)
                                     for _ in range(config.layers)])
        self.norm = nn.LayerNorm(config.dim)
        self.logits = nn.Linear(config.dim, tokenizer.codebook_size)
        self.head = ShapeCameraHead(config.dim, config.heads, config.head_layers, config.ffn_multiplier,
                                    config.dropout, config.num_betas)

    def forward(self, tokens: torch.Tensor, cues: torch.Tensor, image: torch.Tensor | None = None):
        context, cue_token = self.context(cues, image)
        logits, hidden = self.step(tokens, context, cue_token)
        return (logits, *self.read_out(context, hidden))

    # Inference splits the pass, because the context is the same at every iteration and the
    # shape / camera read-out is needed only after the last one (backend.maskhand.sampling).

    def step(self, tokens: torch.Tensor, context: torch.Tensor, cue_token: torch.Tensor):
        """-> logits (B, L, K), hidden states (B, L + 1, C) for ``read_out``."""
        x = torch.cat([cue_token[:, None], self.token_embedding(tokens)], 1) + self.position
        for layer in self.layers:
            x = layer(x, context)
        x = self.norm(x)
        return self.logits(x[:, 1:]), x

    def read_out(self, context: torch.Tensor, hidden: torch.Tensor):
        """-> betas (B, 10), camera (B, 3)."""
        return self.head(torch.cat([context, hidden], 1))
