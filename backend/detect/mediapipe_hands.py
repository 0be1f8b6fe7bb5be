"""The legacy path, kept only as the test oracle of ``hands.HandDetector``: mediapipe 0.10.21's
``solutions.hands`` (its hand-tracking graph in MediaPipe's own runtime), with what the product adds
on top done the same way (mirrored labels swapped, plausibility, merging, the tiled recall pass,
each tile read as an image of its own). It needs mediapipe, which the backend's environment no
longer has (Python 3.12 at most; the dev environment keeps it): nothing the capture runs imports it.
"""
from __future__ import annotations

import cv2
import numpy as np

from .detection import PRESENCE_THRESHOLD, TILE_MIN_SCORE, HandDetection, merge_detections, tile_windows


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
        found = []
        for x0, y0, x1, y1 in tile_windows(rgb.shape[1], rgb.shape[0]):
            found += self._run(self._tiles, np.ascontiguousarray(rgb[y0:y1, x0:x1]), (x0, y0))
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
