"""Keeps each hand's left/right identity steady across frames.

MediaPipe decides handedness per frame, and on hard frames (a fist seen edge-on, crossed
hands) it flips. The tracker trusts spatial continuity over the per-frame label: each side
has a track with its last box; a new frame's detections are assigned to the tracks by the
cheapest matching of box-centre distance (in hand sizes) plus a penalty for disagreeing with
the label. A track's side changes only when the labels have contradicted it for
``switch_after`` consecutive frames.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from .mediapipe_hands import HandDetection

LABEL_PENALTY = 0.75     # in hand sizes of centre distance
MAX_JUMP = 2.5           # a detection further than this (hand sizes) from a track starts it afresh
LOST_AFTER = 10          # frames without a detection before a track forgets its position


@dataclass
class _Track:
    side: str
    centre: np.ndarray | None = None
    size: float = 1.0
    missing: int = 0
    disagreements: int = 0


class HandTracker:
    def __init__(self, sides: tuple = ("left", "right"), switch_after: int = 8):
        self.tracks = {side: _Track(side) for side in sides}
        self.switch_after = switch_after

    def update(self, detections: list[HandDetection]) -> dict[str, HandDetection | None]:
        """Assign this frame's detections to sides: {side: detection or None}."""
        tracks = list(self.tracks.values())
        best, best_cost = {}, np.inf
        for count in range(min(len(tracks), len(detections)), -1, -1):
            for chosen in itertools.permutations(range(len(detections)), count):
                for assigned in itertools.combinations(tracks, count):
                    cost = sum(self._cost(track, detections[d]) for track, d in zip(assigned, chosen))
                    if cost < best_cost and np.isfinite(cost):
                        best, best_cost = {track.side: detections[d] for track, d in zip(assigned, chosen)}, cost
            if best:
                break
        for track in tracks:
            self._advance(track, best.get(track.side))
        self._correct_identities()
        return {side: best.get(side) for side in self.tracks}

    def _correct_identities(self) -> None:
        """A track the labels have contradicted for ``switch_after`` frames follows the labels from now on."""
        for track in self.tracks.values():
            if track.disagreements < self.switch_after:
                continue
            others = [other for other in self.tracks.values() if other is not track]
            if others:  # the two hands were swapped: exchange where each track expects its hand
                other = others[0]
                track.centre, other.centre = other.centre, track.centre
                track.size, other.size = other.size, track.size
                other.disagreements = 0
            else:       # only this side is tracked and the hand seen is the other one: forget it
                track.centre = None
            track.disagreements = 0

    def _cost(self, track: _Track, detection: HandDetection) -> float:
        label_cost = 0.0 if detection.side == track.side else LABEL_PENALTY * detection.score
        if track.centre is None:
            # Capturing one side only, a hand labelled as the other side is not acquired.
            return np.inf if label_cost and len(self.tracks) == 1 else label_cost
        size = max(track.size, 1.0)
        distance = np.linalg.norm(_centre(detection) - track.centre) / size
        return (distance if distance <= MAX_JUMP else MAX_JUMP + 1.0) + label_cost

    def _advance(self, track: _Track, detection: HandDetection | None) -> None:
        if detection is None:
            track.missing += 1
            if track.missing >= LOST_AFTER:
                track.centre, track.disagreements = None, 0
            return
        track.centre, track.size, track.missing = _centre(detection), float(np.ptp(detection.keypoints, 0).max()), 0
        track.disagreements = track.disagreements + 1 if detection.side != track.side else 0


def _centre(detection: HandDetection) -> np.ndarray:
    box = detection.box
    return (box[:2] + box[2:]) / 2
