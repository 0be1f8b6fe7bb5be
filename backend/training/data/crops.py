"""Image crops for full (image + cue) checkpoints, matching the cue crop of backend.context.pose_cues.

The square keypoint box is resized to 256x256 and its middle 192 columns kept (HaMeR's
256x192 input); left hands are flipped so the network sees right hands only.
"""
from __future__ import annotations

import cv2
import numpy as np

from ...context.image import IMAGE_MEAN, IMAGE_STD


def crop_image(image_rgb: np.ndarray, box: np.ndarray, is_right: bool, size: tuple = (256, 192)) -> np.ndarray:
    """RGB image (H, W, 3) uint8, box [cx, cy, side] px -> normalised crop (3, size[0], size[1]) float32."""
    height, width = size
    cx, cy, side = box
    scale = height / side
    # Affine map from the image to a (height x height) square centred on the box, then keep the middle columns.
    matrix = np.array([[scale, 0, height / 2 - scale * cx - (height - width) / 2],
                       [0, scale, height / 2 - scale * cy]], dtype=np.float64)
    crop = cv2.warpAffine(image_rgb, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    if not is_right:
        crop = crop[:, ::-1]
    crop = (crop.astype(np.float32) / 255.0 - np.array(IMAGE_MEAN, np.float32)) / np.array(IMAGE_STD, np.float32)
    return np.ascontiguousarray(crop.transpose(2, 0, 1))
