"""One detected hand, and the box arithmetic that keeps one detection per hand.

Shared by the detector (``hands``) and the legacy MediaPipe wrapper kept as its test oracle
(``mediapipe_hands``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .plausibility import implausibility

PRESENCE_THRESHOLD = 0.5  # MediaPipe's own default for its hand-presence gate
TILE_GRIDS = (2, 3)
TILE_OVERLAP = 1.5
TILE_MIN_SCORE = 0.85
SAME_HAND_IOU = 0.3
FRAGMENT_INSIDE = 0.7        # a box with at least this share of itself inside another's ...
FRAGMENT_AREA = 0.1          # ... and at most this share of its area is a piece of that hand;
FRAGMENT_AREA_SAME_SIDE = 0.5  # ... so is one at most half its area with the same label


@dataclass
class HandDetection:
    keypoints: np.ndarray   # (21, 2) pixels, MediaPipe / OpenPose order
    side: str               # "right" or "left": the subject's hand, by MediaPipe's label (un-mirrored)
    score: float            # MediaPipe's handedness confidence in that label
    depth: np.ndarray | None = None   # (21,) MediaPipe's relative z, pixels (the x scale), wrist at 0
    world: np.ndarray | None = None   # (21, 3) MediaPipe's world landmarks, metres, about the hand's centre
    presence: float | None = None     # the landmark network's hand-presence score (the legacy solution hides it)

    def implausibility(self) -> str | None:
        """Why these keypoints are not a hand's (``plausibility.implausibility``), or None."""
        if self.world is None or self.depth is None:
            return None
        return implausibility(np.concatenate([self.keypoints, self.depth[:, None]], 1), self.world)

    @property
    def box(self) -> np.ndarray:
        return keypoint_box(self.keypoints)


def keypoint_box(keypoints: np.ndarray) -> np.ndarray:
    """[x0, y0, x1, y1] around keypoints (21, 2), pixels."""
    return np.concatenate([keypoints.min(0), keypoints.max(0)])


def box_area(box: np.ndarray) -> float:
    return float(np.prod(np.maximum(box[2:] - box[:2], 0)))


def box_overlap(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.clip(np.minimum(a[2:], b[2:]) - np.maximum(a[:2], b[:2]), 0, None).prod())


def box_ious(boxes: np.ndarray, box: np.ndarray) -> np.ndarray:
    """(M, 4) boxes [x0, y0, x1, y1] against one (4,) -> (M,) intersection over union (0 where both are empty)."""
    overlap = np.clip(np.minimum(boxes[:, 2:], box[2:]) - np.maximum(boxes[:, :2], box[:2]), 0, None).prod(1)
    areas = np.clip(boxes[:, 2:] - boxes[:, :2], 0, None).prod(1)
    union = areas + box_area(box) - overlap
    return np.where(union > 0, overlap / np.maximum(union, 1e-12), 0.0)


def box_iou(a: np.ndarray, b: np.ndarray) -> float:
    return float(box_ious(a[None], b)[0])


def share_inside(small: np.ndarray, large: np.ndarray) -> float:
    """The share of box ``small``'s area that lies inside box ``large``."""
    area = box_area(small)
    return box_overlap(small, large) / area if area > 0 else 0.0


def is_fragment(small: HandDetection, large: HandDetection) -> bool:
    """Whether detection ``small`` is a piece of hand ``large``: mostly inside its box, and a tenth of its
    size, or half of it with the same label. MediaPipe fits a second, partial "hand" to the fingers of a
    hand it has found (a 9x18 px one on a finger; on fists in video, a quarter-size one on the curled
    fingers, for frames at a time, labelled as the hand is); box IoU misses it, as the union is the big
    box. A real hand can lie inside another's box at a quarter of its area (test3.jpg: a left hand inside
    the box of a right hand's spread fingers), but it is not labelled as the same side there."""
    if share_inside(small.box, large.box) < FRAGMENT_INSIDE:
        return False
    share = box_area(small.box) / max(box_area(large.box), 1e-9)
    return share <= FRAGMENT_AREA or (share <= FRAGMENT_AREA_SAME_SIDE and small.side == large.side)


def merge_detections(detections: list[HandDetection], limit: int) -> list[HandDetection]:
    """Non-maximum suppression over keypoint boxes, best score first, after dropping fragments of
    other detections; at most ``limit`` hands."""
    detections = [d for d in detections if not any(is_fragment(d, other) for other in detections if other is not d)]
    kept: list[HandDetection] = []
    for candidate in sorted(detections, key=lambda d: -d.score):
        if all(box_iou(candidate.box, other.box) < SAME_HAND_IOU for other in kept):
            kept.append(candidate)
    return kept[:limit]


def tile_windows(width: int, height: int) -> list[tuple]:
    """The recall pass's overlapping tiles of a width x height frame (2x2 and 3x3, each ``TILE_OVERLAP`` x a grid
    cell), (x0, y0, x1, y1); none where the frame is too small to tile."""
    windows = []
    for grid in TILE_GRIDS:
        tile_h, tile_w = min(height, int(height / grid * TILE_OVERLAP)), min(width, int(width / grid * TILE_OVERLAP))
        if tile_h < 1 or tile_w < 1:
            continue
        for row in range(grid):
            for column in range(grid):
                y0 = round(row * (height - tile_h) / (grid - 1))
                x0 = round(column * (width - tile_w) / (grid - 1))
                windows.append((x0, y0, x0 + tile_w, y0 + tile_h))
    return windows
