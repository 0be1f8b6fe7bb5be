"""Hand boxes, handedness and 21 keypoints per frame from MediaPipe's legacy hand solution.

The models ship inside the mediapipe 0.10.21 wheel and run offline on the CPU. Two things
are added on top:

* **Handedness for ordinary footage.** MediaPipe labels hands as if the image were a mirrored
  selfie, so "Left" is the subject's right hand: labels are swapped. (Mirrored footage is
  un-mirrored by the pipeline before it gets here.)
* **Only hands.** Every detection, from either pass, has passed MediaPipe's hand-presence score
  (the landmark network's own "is this a hand" output, gated at ``PRESENCE_THRESHOLD``; the
  legacy solution exposes the gate, not the score) and the plausibility check of its 21
  keypoints (``plausibility.implausibility``).
* **Recall.** The palm detector looks at the whole frame at 192x192 and misses hands that
  are small in it. When a frame yields fewer hands than asked for, a second pass runs the
  detector on overlapping tiles (2x2 and 3x3, each 1.5x a grid cell), maps what it finds back
  and merges it with non-maximum suppression. Tile-only hands must score higher, to keep
  false hands out. In video the extra pass runs at most every ``recall_interval`` frames.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
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


def box_iou(a: np.ndarray, b: np.ndarray) -> float:
    overlap = box_overlap(a, b)
    union = box_area(a) + box_area(b) - overlap
    return overlap / union if union > 0 else 0.0


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


class MediaPipeHands:
    """``detect(frame_bgr) -> [HandDetection]``. Use as a context manager (it holds native graphs)."""

    def __init__(self, max_hands: int = 2, video: bool = True, min_confidence: float = 0.3, model_complexity: int = 1, extra_passes: bool = True,
                 recall_interval: int = 15):
        import mediapipe as mp

        self.max_hands = max_hands
        self.extra_passes, self.recall_interval = extra_passes, recall_interval
        self._frames_since_recall = recall_interval
        solution = mp.solutions.hands
        # min_tracking_confidence is the threshold of the landmark network's hand-presence score, in
        # either mode (mediapipe/python/solutions/hands.py: handlandmarkcpu__ThresholdingCalculator).
        self._full = solution.Hands(static_image_mode=not video, max_num_hands=max_hands,
                                    model_complexity=model_complexity, min_detection_confidence=min_confidence,
                                    min_tracking_confidence=PRESENCE_THRESHOLD)
        self._tiles = solution.Hands(static_image_mode=True, max_num_hands=max_hands, model_complexity=model_complexity,
                                     min_detection_confidence=min_confidence,
                                     min_tracking_confidence=PRESENCE_THRESHOLD) if extra_passes else None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        for graph in (self._full, self._tiles):
            if graph is not None:
                graph.close()

    def detect(self, frame_bgr: np.ndarray) -> list[HandDetection]:
        rgb = cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2RGB)
        # MediaPipe's tracking can hold two "hands" on one hand (often with opposite labels): suppress those too.
        found = merge_detections(self._run(self._full, rgb, (0, 0)), self.max_hands)
        self._frames_since_recall += 1
        if (self._tiles is not None and len(found) < self.max_hands
                and self._frames_since_recall >= self.recall_interval):
            self._frames_since_recall = 0
            extra = [d for d in self._tile_pass(rgb) if d.score >= TILE_MIN_SCORE]
            found = merge_detections(found + extra, self.max_hands)
        return found

    def _tile_pass(self, rgb: np.ndarray) -> list[HandDetection]:
        height, width = rgb.shape[:2]
        found = []
        for grid in TILE_GRIDS:
            tile_h, tile_w = min(height, int(height / grid * TILE_OVERLAP)), min(width, int(width / grid * TILE_OVERLAP))
            for row in range(grid):
                for column in range(grid):
                    y0 = round(row * (height - tile_h) / (grid - 1))
                    x0 = round(column * (width - tile_w) / (grid - 1))
                    tile = np.ascontiguousarray(rgb[y0:y0 + tile_h, x0:x0 + tile_w])
                    found += self._run(self._tiles, tile, (x0, y0))
        return merge_detections(found, len(found))

    def _run(self, graph, rgb: np.ndarray, offset: tuple) -> list[HandDetection]:
        result = graph.process(rgb)
        height, width = rgb.shape[:2]
        detections = []
        for landmarks, world, handedness in zip(result.multi_hand_landmarks or [], result.multi_hand_world_landmarks or [],
                                                result.multi_handedness or []):
            points = np.array([[p.x * width + offset[0], p.y * height + offset[1], p.z * width]
                               for p in landmarks.landmark])                                    # (21, 3)
            label = handedness.classification[0].label.lower()          # as if the image were mirrored
            side = "right" if label == "left" else "left"
            detection = HandDetection(points[:, :2], side, float(handedness.classification[0].score), points[:, 2],
                                      np.array([[p.x, p.y, p.z] for p in world.landmark]))
            if detection.implausibility() is None:
                detections.append(detection)
        return detections
