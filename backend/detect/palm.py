"""The palm detector's output, decoded: MediaPipe's SSD anchors, box decoding and weighted NMS, in numpy.

The network (``models/palm_detection_full.onnx``) reads a 192x192 RGB image in [0, 1] and scores
2016 anchors; each anchor regresses a box and 7 palm keypoints. The constants are those of
mediapipe 0.10.21's ``palm_detection_full`` graph (``SsdAnchorsCalculator``,
``TensorsToDetectionsCalculator``, ``NonMaxSuppressionCalculator``).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .detection import box_ious

INPUT_SIZE = 192
STRIDES = (8, 16, 16, 16)     # one anchor layer per stride; layers of one stride share a grid
ANCHORS_PER_LAYER = 2         # aspect ratio 1, plus the interpolated scale
KEYPOINTS = 7
SCORE_CLIP = 100.0
SUPPRESSION_IOU = 0.3         # weighted NMS: boxes overlapping this much are one palm


@dataclass
class Palms:
    """Palms found in one image, in the detector's input square, normalised to [0, 1]."""

    boxes: np.ndarray      # (M, 4) x0, y0, x1, y1
    keypoints: np.ndarray  # (M, 7, 2)
    scores: np.ndarray     # (M,)


@lru_cache(maxsize=1)
def anchor_centres() -> np.ndarray:
    """(2016, 2) anchor centres, normalised: row by row, each cell's anchors together (fixed anchor size 1)."""
    centres = []
    layer = 0
    while layer < len(STRIDES):
        same = sum(1 for s in STRIDES[layer:] if s == STRIDES[layer])
        cells = int(np.ceil(INPUT_SIZE / STRIDES[layer]))
        y, x = np.meshgrid((np.arange(cells) + 0.5) / cells, (np.arange(cells) + 0.5) / cells, indexing="ij")
        grid = np.stack([x, y], -1).reshape(-1, 1, 2)
        centres.append(np.repeat(grid, same * ANCHORS_PER_LAYER, 1).reshape(-1, 2))
        layer += same
    centres = np.concatenate(centres).astype(np.float32)
    centres.setflags(write=False)  # cached: shared by every caller
    return centres


def decode(regressors: np.ndarray, logits: np.ndarray, min_score: float) -> Palms:
    """One image's raw outputs, (2016, 18) and (2016, 1), -> its palms after weighted NMS."""
    scores = 1 / (1 + np.exp(-np.clip(logits[:, 0], -SCORE_CLIP, SCORE_CLIP)))
    keep = scores >= min_score
    if not keep.any():
        return Palms(np.zeros((0, 4)), np.zeros((0, KEYPOINTS, 2)), np.zeros(0))
    raw, centres, scores = regressors[keep] / INPUT_SIZE, anchor_centres()[keep], scores[keep]
    middle, size = raw[:, :2] + centres, raw[:, 2:4]
    boxes = np.concatenate([middle - size / 2, middle + size / 2], 1)
    keypoints = raw[:, 4:4 + 2 * KEYPOINTS].reshape(-1, KEYPOINTS, 2) + centres[:, None]
    return weighted_nms(boxes, keypoints, scores)


def weighted_nms(boxes: np.ndarray, keypoints: np.ndarray, scores: np.ndarray) -> Palms:
    """MediaPipe's WEIGHTED suppression: best first, each palm is the score-weighted mean of the boxes and
    keypoints that overlap it by more than ``SUPPRESSION_IOU`` (itself included), with its own score."""
    order = np.argsort(-scores, kind="stable")
    out_boxes, out_keypoints, out_scores = [], [], []
    while len(order):
        overlaps = box_ious(boxes[order], boxes[order[0]]) > SUPPRESSION_IOU
        overlaps[0] = True
        group, order = order[overlaps], order[~overlaps]
        weights = scores[group] / scores[group].sum()
        out_boxes.append(weights @ boxes[group])
        out_keypoints.append(np.tensordot(weights, keypoints[group], 1))
        out_scores.append(scores[group[0]])
    return Palms(np.array(out_boxes), np.array(out_keypoints), np.array(out_scores))
