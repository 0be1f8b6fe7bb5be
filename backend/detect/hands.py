"""Hands per frame: MediaPipe's hand-tracking graph, re-done in numpy around its two networks, batched.

Per frame, as mediapipe 0.10.21's legacy ``solutions.hands`` (``hand_landmark_tracking_cpu``):

1. **Where to look.** In video, each hand held from the previous frame gives this frame's crop
   (``rects.from_landmarks``). The palm detector runs only while fewer hands are held than asked
   for; its palms give crops too (``rects.from_palms``), except where a held hand's crop already
   overlaps them (``_associate``: IoU above ``ASSOCIATION_IOU``, the held one wins).
2. **Landmarks.** Every crop of the frame goes through the landmark network in one batch; a crop
   whose hand-presence score is under ``PRESENCE_THRESHOLD`` holds no hand.
3. **Only hands, one each** (``detection``): MediaPipe's label is mirrored (its "Left" is the
   subject's right); keypoints that are not a hand's are dropped (``plausibility``); overlapping
   fits of one hand are merged. Unlike MediaPipe, only the hands given out here are held for the
   next frame (``_detect_tracked`` says why).
4. **Recall.** When fewer hands than asked for are found, the palm detector also reads
   overlapping tiles (2x2 and 3x3, each 1.5x a grid cell; in video at most every
   ``recall_interval`` frames), each as an image of its own as the legacy second pass did; a
   hand found only there must be labelled with at least ``TILE_MIN_SCORE``.

Photos (``video=False``) are read without tracking; ``detect_many`` batches each pass over many.
"""
from __future__ import annotations

import cv2
import numpy as np

from . import rects as rect_math
from .detection import (PRESENCE_THRESHOLD, TILE_MIN_SCORE, HandDetection, box_iou, merge_detections,
                        tile_windows)
from .networks import LANDMARK_SIZE, HandNetworks
from .palm import INPUT_SIZE as PALM_SIZE, decode

ASSOCIATION_IOU = 0.5   # AssociationNormRectCalculator's min_similarity_threshold
NORMALIZE_Z = 0.4       # TensorsToLandmarksCalculator's normalize_z for the hand landmarks: z is divided by it
# Where a crop came from: a held hand, a palm on the whole frame, a palm on tile k (TILE + k).
HELD, PALM, TILE = 0, 1, 2


class HandDetector:
    """``detect(frame_bgr) -> [HandDetection]``; ``detect_many(frames)`` for photos. Same settings as
    ``MediaPipeHands``, the legacy wrapper it replaces."""

    def __init__(self, max_hands: int = 2, video: bool = True, min_confidence: float = 0.3, extra_passes: bool = True,
                 recall_interval: int = 15, device: str = "cpu", threads: int = 0, networks: HandNetworks | None = None):
        self.max_hands, self.video, self.min_confidence = max_hands, video, min_confidence
        self.extra_passes, self.recall_interval = extra_passes, recall_interval if video else 1
        self.networks = networks or HandNetworks(device, threads)
        self._held = np.zeros((0, 5))             # crops of the hands held from the previous frame
        self._frames_since_recall = recall_interval

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        self._held = np.zeros((0, 5))
        self._frames_since_recall = self.recall_interval

    def detect(self, frame_bgr: np.ndarray) -> list[HandDetection]:
        return self._detect_tracked(frame_bgr) if self.video else self.detect_many([frame_bgr])[0]

    def detect_many(self, frames_bgr: list[np.ndarray]) -> list[list[HandDetection]]:
        """Photos, independently; each pass's network calls batched over all of them."""
        rgbs = [cv2.cvtColor(frame, cv2.COLOR_BGR2RGB) for frame in frames_bgr]
        crops = self._palm_crops(rgbs, [True] * len(rgbs), [False] * len(rgbs))
        found = [self._settle(hands) for hands in self._landmarks(rgbs, [_associate(c) for c in crops])]
        return self._recall(rgbs, found, [self.extra_passes] * len(rgbs))

    def candidates(self, frame_bgr: np.ndarray, presence: float = PRESENCE_THRESHOLD) -> list[HandDetection]:
        """Every hand the landmark network fits to a photo and to its tiles with a presence score of at least
        ``presence``, before the plausibility check and the merging: what the checks are measured on."""
        rgb = cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2RGB)
        crops = self._palm_crops([rgb], [True], [True])
        return [detection for detection, _ in self._landmarks([rgb], [_associate(crops[0])], presence)[0]]

    def _detect_tracked(self, frame_bgr: np.ndarray) -> list[HandDetection]:
        rgb = cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2RGB)
        held = [(rect, HELD, None) for rect in self._held]
        looking = len(held) < self.max_hands
        crops = held + (self._palm_crops([rgb], [True], [False])[0] if looking else [])
        hands = self._settle(self._landmarks([rgb], [_associate(crops)])[0])
        self._frames_since_recall += 1
        due = self.extra_passes and self._frames_since_recall >= self.recall_interval
        if due and len(hands) < self.max_hands:
            self._frames_since_recall = 0
        hands = self._recall([rgb], [hands], [due])[0]
        # Only the hands given out are held for the next frame. (MediaPipe holds every fit that passes presence: a
        # partial fit on a hand's fingers, which merge_detections drops, was then held beside the hand, kept the
        # palm detector off, and on the real clip of bench_real took the hand over for frames.)
        self._held = rect_math.from_landmarks(np.array([d.keypoints for d in hands])) if hands else np.zeros((0, 5))
        return hands

    def _settle(self, detections: list[tuple[HandDetection, int]]) -> list[HandDetection]:
        """One view's plausible hands, one per hand, at most ``max_hands``."""
        return merge_detections([d for d, _ in detections if d.implausibility() is None], self.max_hands)

    def _recall(self, rgbs: list[np.ndarray], found: list[list], due: list[bool]) -> list[list[HandDetection]]:
        """The tiled pass, batched over the frames where it is due and fewer hands than asked for were found:
        the tiles' plausible hands, settled among themselves first and kept only where labelled surely, merged
        with the frame's."""
        need = [d and len(hands) < self.max_hands for d, hands in zip(due, found)]
        if not any(need):
            return found
        crops = self._palm_crops(rgbs, [False] * len(rgbs), need)
        tiled = self._landmarks(rgbs, [_associate(c) for c in crops])
        for index in (i for i, n in enumerate(need) if n):
            plausible = [d for d, _ in tiled[index] if d.implausibility() is None]
            extra = [d for d in merge_detections(plausible, len(plausible)) if d.score >= TILE_MIN_SCORE]
            found[index] = merge_detections(found[index] + extra, self.max_hands)
        return found

    def _palm_crops(self, rgbs: list[np.ndarray], whole: list[bool], tiled: list[bool]) -> list[list]:
        """Per frame, the hand crops (rect, source, window) of the palms found on the whole frame and its tiles."""
        views, owners = [], []   # (the square the detector reads, source, window or None)
        for index, (rgb, use_whole, use_tiles) in enumerate(zip(rgbs, whole, tiled)):
            height, width = rgb.shape[:2]
            if use_whole:
                views.append((rect_math.square_around(width, height), PALM, None))
                owners.append(index)
            if use_tiles:
                for tile, window in enumerate(tile_windows(width, height)):
                    x0, y0, x1, y1 = window
                    square = rect_math.square_around(x1 - x0, y1 - y0) + np.array([x0, y0, 0, 0, 0])
                    views.append((square, TILE + tile, window))
                    owners.append(index)
        crops: list[list] = [[] for _ in rgbs]
        if not views:
            return crops
        images = np.stack([rect_math.crop(rgbs[owner], square, PALM_SIZE, window)
                           for (square, _, window), owner in zip(views, owners)])
        regressors, logits = self.networks.palms(images.astype(np.float32) / 255)
        for (square, source, window), owner, regressor, logit in zip(views, owners, regressors, logits):
            palms = decode(regressor, logit, self.min_confidence)
            if not len(palms.scores):
                continue
            count = min(len(palms.scores), self.max_hands)  # ClipDetectionVectorSizeCalculator: best first
            side, corner = square[2], square[:2] - square[2] / 2
            boxes = palms.boxes[:count] * side + np.tile(corner, 2)
            keypoints = palms.keypoints[:count] * side + corner
            crops[owner] += [(rect, source, window) for rect in rect_math.from_palms(boxes, keypoints)]
        return crops

    def _landmarks(self, rgbs: list[np.ndarray], crops: list[list], presence: float = PRESENCE_THRESHOLD) -> list[list]:
        """Per frame, [(HandDetection, source)] of the crops whose hand-presence score is at least ``presence``."""
        flat = [(index, *crop) for index, frame_crops in enumerate(crops) for crop in frame_crops]
        found: list[list] = [[] for _ in rgbs]
        if flat:
            images = np.stack([rect_math.crop(rgbs[index], rect, LANDMARK_SIZE, window, replicate=True)
                               for index, rect, _, window in flat])
            outputs = self.networks.landmarks(images.astype(np.float32) / 255)
            rects = np.stack([rect for _, rect, _, _ in flat])
            points = rect_math.to_image(outputs.points[..., :2], rects, LANDMARK_SIZE)           # (B, 21, 2)
            depth = outputs.points[..., 2] * rects[:, 2:3] / (LANDMARK_SIZE * NORMALIZE_Z)          # x's scale
            world = outputs.world.copy()
            world[..., :2] = rect_math.rotate(outputs.world[..., :2], rects[:, 4])
            for k, (index, _, source, _) in enumerate(flat):
                if outputs.presence[k] < presence:
                    continue
                right = outputs.handedness[k] > 0.5   # MediaPipe's "Left" on a mirrored view: the subject's right
                score = outputs.handedness[k] if right else 1 - outputs.handedness[k]
                found[index].append((HandDetection(points[k].astype(np.float64), "right" if right else "left",
                                                   float(score), depth[k].astype(np.float64),
                                                   world[k].astype(np.float64), float(outputs.presence[k])),
                                     source))
        return found


def _associate(crops: list) -> list:
    """AssociationNormRectCalculator, as MediaPipe runs it: crops (rect, source, window) in the order palms
    (best first), then held hands; each removes the earlier ones it overlaps by more than ``ASSOCIATION_IOU``.
    So a held hand wins over a palm, and of two overlapping palms the weaker wins (MediaPipe's quirk, kept for
    parity: on test3.jpg it costs the whole-frame pass its hand, which the tiles find). Each tile is read as
    an image of its own, as the legacy second pass read it (its crops are cut from the tile and meet only its
    own); ``merge_detections`` settles their hands against the frame's."""
    kept: list = []
    for crop in sorted(crops, key=lambda crop: crop[1] == HELD):
        kept = [other for other in kept if _view(other[1]) != _view(crop[1])
                or box_iou(rect_math.box(crop[0]), rect_math.box(other[0])) <= ASSOCIATION_IOU]
        kept.append(crop)
    return kept


def _view(source: int) -> int:
    """The view a crop's palm was found in: 0 for the whole frame (held hands too), TILE + k for tile k."""
    return 0 if source < TILE else source
