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

import cv2
import numpy as np

from .detection import (PRESENCE_THRESHOLD, SAME_HAND_IOU, TILE_GRIDS, TILE_MIN_SCORE, TILE_OVERLAP,  # noqa: F401
                        HandDetection, merge_detections)


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
