"""2D pose cues: 21 detected keypoints with confidences, cropped, encoded over the hand skeleton.

``crop_cues`` turns detector keypoints (pixels) into the model's input: coordinates relative
to a square box around the hand (HaMeR-style crop, units of the box side, in [-0.5, 0.5]),
with left hands flipped into right ones. ``PoseCueEncoder`` is the paper's GCN over the
skeleton followed by anatomical refinement (GAPR) blocks, giving one feature per keypoint
(the context the synthesizer attends to) and a pooled cue token (put in front of the pose tokens).
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..hand_model.layout import KEYPOINT_PARENTS, NUM_KEYPOINTS
from ..maskhand.heads import attend

BOX_PADDING = 1.3  # box side = padding x the larger extent of the keypoints, as MediaPipe's own crop does


def crop_cues(keypoints: np.ndarray, confidence: np.ndarray, is_right: np.ndarray):
    """Detector keypoints (N, 21, 2) px, confidences (N, 21), sides (N,) ->
    cues (N, 21, 3) [u, v, confidence] and boxes (N, 3) [centre x, centre y, side] in px.

    The box is computed from keypoints with non-zero confidence; left hands are mirrored (u -> -u)
    so the network only ever sees right hands.
    """
    weight = (confidence > 0)[..., None]
    masked_min = np.where(weight, keypoints, np.inf).min(1)
    masked_max = np.where(weight, keypoints, -np.inf).max(1)
    centre = (masked_min + masked_max) / 2
    side = np.maximum(BOX_PADDING * (masked_max - masked_min).max(-1), 1.0)
    uv = (keypoints - centre[:, None]) / side[:, None, None]
    uv[..., 0] *= np.where(is_right, 1.0, -1.0)[:, None]
    cues = np.concatenate([uv, confidence[..., None]], -1).astype(np.float32)
    return cues, np.concatenate([centre, side[:, None]], -1)


def skeleton_adjacency() -> torch.Tensor:
    """(21, 21) symmetric-normalised adjacency of the hand skeleton with self-loops."""
    adjacency = torch.eye(NUM_KEYPOINTS)
    for child, parent in enumerate(KEYPOINT_PARENTS):
        if parent >= 0:
            adjacency[child, parent] = adjacency[parent, child] = 1.0
    degree = adjacency.sum(1).rsqrt()
    return degree[:, None] * adjacency * degree[None]


class GraphConv(nn.Module):
    """x + MLP(A x): one residual graph convolution with a fixed or learnable adjacency."""

    def __init__(self, dim: int, learnable_adjacency: bool = False):
        super().__init__()
        adjacency = skeleton_adjacency()
        if learnable_adjacency:
            self.adjacency = nn.Parameter(adjacency)
        else:
            self.register_buffer("adjacency", adjacency)
        self.norm = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, dim), nn.GELU(), nn.Linear(dim, dim))

    def forward(self, x):                                                      # (B, 21, C)
        return x + self.mlp(self.adjacency @ self.norm(x))


class AnatomicalRefinement(nn.Module):
    """A GAPR block: self-attention across joints, a graph convolution with a learnable
    adjacency (initialised to the skeleton), and squeeze-excitation over channels."""

    def __init__(self, dim: int, heads: int, dropout: float):
        super().__init__()
        self.attention_norm = nn.LayerNorm(dim)
        self.attention = nn.MultiheadAttention(dim, heads, dropout=dropout, batch_first=True)
        self.graph = GraphConv(dim, learnable_adjacency=True)
        self.excitation = nn.Sequential(nn.Linear(dim, dim // 4), nn.GELU(), nn.Linear(dim // 4, dim), nn.Sigmoid())

    def forward(self, x):                                                      # (B, 21, C)
        normed = self.attention_norm(x)
        x = x + attend(self.attention, normed, normed)
        x = self.graph(x)
        return x * self.excitation(x.mean(1, keepdim=True))


class PoseCueEncoder(nn.Module):
    """cues (B, 21, 3) -> keypoint features (B, 21, C) and a cue token (B, C)."""

    def __init__(self, dim: int, gcn_layers: int, refinement_blocks: int, heads: int, dropout: float):
        super().__init__()
        self.embed = nn.Linear(3, dim)
        self.keypoint_embedding = nn.Parameter(torch.randn(NUM_KEYPOINTS, dim) * 0.02)
        self.gcn = nn.Sequential(*[GraphConv(dim) for _ in range(gcn_layers)])
        self.refinement = nn.Sequential(*[AnatomicalRefinement(dim, heads, dropout) for _ in range(refinement_blocks)])
        self.norm = nn.LayerNorm(dim)
        self.pool = nn.Linear(dim * NUM_KEYPOINTS, dim)

    def forward(self, cues: torch.Tensor):
        features = self.refinement(self.gcn(self.embed(cues) + self.keypoint_embedding))
        features = self.norm(features)
        return features, self.pool(features.flatten(1))
