"""Pose cues: 21 detected keypoints with confidences (and MediaPipe's 3D readings), cropped, encoded over the skeleton.

``crop_cues`` turns detector keypoints (pixels) into the model's input: coordinates relative
to a square box around the hand (HaMeR-style crop, units of the box side, in [-0.5, 0.5]),
with left hands flipped into right ones. Where the detector is MediaPipe it also gives two 3D
readings of the hand from the pixels: a relative depth per image landmark, and metric world
landmarks. Those become four more channels per keypoint in the same crop units (the world
landmarks turned and scaled onto the image landmarks first: MediaPipe's world frame is rotated
from the camera's), so a checkpoint trained with them reads the hand's depth, not only u, v.
``PoseCueEncoder`` is the paper's GCN over the skeleton followed by anatomical refinement (GAPR)
blocks, giving one feature per keypoint (the context the synthesizer attends to) and a pooled cue
token (put in front of the pose tokens).
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..hand_model.layout import KEYPOINT_PARENTS, NUM_KEYPOINTS
from ..maskhand.heads import attend
from ..metrics import procrustes_align

BOX_PADDING = 1.3  # box side = padding x the larger extent of the keypoints, as MediaPipe's own crop does
CUE_CHANNELS_2D = 3  # u, v, confidence
CUE_CHANNELS_3D = 7  # u, v, confidence, image depth, world x, y, z


def crop_cues(keypoints: np.ndarray, confidence: np.ndarray, is_right: np.ndarray,
              depth: np.ndarray | None = None, world: np.ndarray | None = None):
    """Detector keypoints (N, 21, 2) px, confidences (N, 21), sides (N,) [, MediaPipe's relative depth (N, 21) px
    and world landmarks (N, 21, 3) m] -> cues (N, 21, 3) [u, v, confidence] or, with depth and world, (N, 21, 7)
    [u, v, confidence, d, wx, wy, wz], and boxes (N, 3) [centre x, centre y, side] in px.

    The box is computed from keypoints with non-zero confidence; left hands are mirrored (u -> -u, and x of the
    3D readings) so the network only ever sees right hands. The depth is taken about the image landmarks' mean;
    the world landmarks are similarity-aligned onto the image landmarks (u, v, d in px) and share their units.
    """
    weight = (confidence > 0)[..., None]
    masked_min = np.where(weight, keypoints, np.inf).min(1)
    masked_max = np.where(weight, keypoints, -np.inf).max(1)
    centre = (masked_min + masked_max) / 2
    side = np.maximum(BOX_PADDING * (masked_max - masked_min).max(-1), 1.0)
    mirror = np.where(is_right, 1.0, -1.0)[:, None]
    uv = (keypoints - centre[:, None]) / side[:, None, None]
    uv[..., 0] *= mirror
    channels = [uv, confidence[..., None]]
    if (depth is None) != (world is None):
        raise ValueError("MediaPipe's 3D readings come as a pair: pass both depth and world, or neither")
    if depth is not None:
        image = np.concatenate([keypoints, depth[..., None]], -1).astype(np.float64)        # (N, 21, 3) px
        turned = procrustes_align(np.asarray(world, np.float64), image)
        origin = np.concatenate([centre, image[..., 2].mean(1, keepdims=True)], -1)[:, None]  # (N, 1, 3)
        depth_channel = (image[..., 2:] - origin[..., 2:]) / side[:, None, None]
        world_channels = (turned - origin) / side[:, None, None]
        world_channels[..., 0] *= mirror
        channels += [depth_channel, world_channels]
    cues = np.concatenate(channels, -1).astype(np.float32)
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
    """cues (B, 21, >= channels) -> keypoint features (B, 21, C) and a cue token (B, C).

    ``channels`` is 3 (u, v, confidence) or 7 (with MediaPipe's 3D readings); wider cues are cut to it,
    so a 2D checkpoint runs on cues that carry the 3D readings too."""

    def __init__(self, dim: int, gcn_layers: int, refinement_blocks: int, heads: int, dropout: float,
                 channels: int = CUE_CHANNELS_2D):
        super().__init__()
        self.channels = channels
        self.embed = nn.Linear(channels, dim)
        self.keypoint_embedding = nn.Parameter(torch.randn(NUM_KEYPOINTS, dim) * 0.02)
        self.gcn = nn.Sequential(*[GraphConv(dim) for _ in range(gcn_layers)])
        self.refinement = nn.Sequential(*[AnatomicalRefinement(dim, heads, dropout) for _ in range(refinement_blocks)])
        self.norm = nn.LayerNorm(dim)
        self.pool = nn.Linear(dim * NUM_KEYPOINTS, dim)

    def forward(self, cues: torch.Tensor):
        if cues.shape[-1] < self.channels:
            raise ValueError(f"this checkpoint reads {self.channels} cue channels per keypoint (MediaPipe's depth and "
                             f"world landmarks beside u, v, confidence), the cues have {cues.shape[-1]}")
        features = self.refinement(self.gcn(self.embed(cues[..., :self.channels]) + self.keypoint_embedding))
        features = self.norm(features)
        return features, self.pool(features.flatten(1))
