"""Image context for full checkpoints: a ViT over the hand crop (the paper: ViT-H/16 on 256x192).

The default checkpoint has no image encoder (no pretrained hand image encoder can be had
offline, and one trained from scratch on a CPU would learn nothing useful). A full
checkpoint trained on real images with ``image_encoder="vit"`` loads through the same code.
"""
from __future__ import annotations

import torch
from torch import nn

# ImageNet statistics, which HaMeR's ViT backbone also uses.
IMAGE_MEAN = (0.485, 0.456, 0.406)
IMAGE_STD = (0.229, 0.224, 0.225)


class ViTEncoder(nn.Module):
    """crop (B, 3, H, W), normalised -> patch features (B, H/p * W/p, out_dim)."""

    def __init__(self, image_size: tuple, patch: int, dim: int, layers: int, heads: int, out_dim: int):
        super().__init__()
        height, width = image_size
        if height % patch or width % patch:
            raise ValueError(f"image size {image_size} is not a multiple of the patch size {patch}")
        self.patch_embed = nn.Conv2d(3, dim, patch, stride=patch)
        self.position = nn.Parameter(torch.randn((height // patch) * (width // patch), dim) * 0.02)
        layer = nn.TransformerEncoderLayer(dim, heads, 4 * dim, dropout=0.0, activation="gelu",
                                           batch_first=True, norm_first=True)
        self.blocks = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(dim)
        self.project = nn.Linear(dim, out_dim)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        patches = self.patch_embed(image).flatten(2).transpose(1, 2) + self.position
        return self.project(self.norm(self.blocks(patches)))
