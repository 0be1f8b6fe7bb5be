"""Following hands through the footage: tracks are hands, not sides.

Each track is one physical hand, kept by spatial continuity. The cost of giving a detection to
a live track is the distance from the track's predicted centre (constant velocity), in hand
sizes, plus a small cost for a label that disagrees with the track's side so far (it breaks
ties when two hands of different sides cross). Pairs are taken cheapest first: a hand that is
where its track expects it keeps it, even when the cheapest assignment in total would give it to
another track (a momentary partial fit on the fingers, with a track of its own, would otherwise
steal the hand for a frame). A detection further than ``MAX_JUMP`` from every free track starts
a new track, so two hands of one side (a handshake) are two tracks; a track unseen for
``LOST_AFTER`` frames ends.

A track's side is the vote of its frames' labels, each weighted by MediaPipe's handedness
confidence (``Track.side``): a label that flips for a few frames does not move the hand, and
a confident detection is never relabelled to fill a side that has no hand. Settling the
tracks once the footage is read (naming them, joining a hand that left and came back) is
``handedness.settle_tracks``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .detection import HandDetection

MAX_JUMP = 2.5        # hand sizes a hand's centre may move from where its track expects it
LOST_AFTER = 10       # frames without a detection before a track ends
LABEL_COST = 0.3      # hand sizes added for a label against the track's side, times the label's confidence


@dataclass
class Track:
    """One hand's detections in frame order, and the evidence for its side."""

    id: int
    rows: list = field(default_factory=list)         # frame rows (from the capture's first frame)
    detections: list = field(default_factory=list)   # HandDetection per row
    vote: float = 0.0                                 # sum over frames of +score (labelled right) or -score (left)
    centre: np.ndarray | None = None
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(2))
    size: float = 1.0

    @property
    def side(self) -> str:
        """The side the labels vote for so far (the first label on a tie)."""
        if self.vote == 0 and self.detections:
            return self.detections[0].side
        return "right" if self.vote >= 0 else "left"

    @property
    def last_row(self) -> int:
        return self.rows[-1]

    def predicted_centre(self, row: int) -> np.ndarray:
        return self.centre + self.velocity * (row - self.last_row)

    def add(self, row: int, detection: HandDetection) -> None:
        centre = box_centre(detection)
        if self.rows and row - self.last_row <= 2:
            self.velocity = (centre - self.centre) / (row - self.last_row)
        else:
            self.velocity = np.zeros(2)
        self.centre, self.size = centre, max(float(np.ptp(detection.keypoints, 0).max()), 1.0)
        self.rows.append(row)
        self.detections.append(detection)
        self.vote += (1.0 if detection.side == "right" else -1.0) * max(detection.score, 1e-3)


class HandTracker:
    """``update(row, detections)`` per frame, in order; ``tracks`` holds every track made."""

    def __init__(self):
        self.tracks: list[Track] = []

    def live(self, row: int) -> list[Track]:
        return [track for track in self.tracks if row - track.last_row <= LOST_AFTER]

    def update(self, row: int, detections: list[HandDetection]) -> list[tuple[Track, HandDetection]]:
        """Give this frame's detections to tracks (new ones where none is near): [(track, detection)]."""
        live = self.live(row)
        costs = sorted((self._cost(track, detection, row), t, d) for t, track in enumerate(live)
                       for d, detection in enumerate(detections))
        pairs, taken_tracks, taken_detections = [], set(), set()
        for cost, t, d in costs:
            if np.isfinite(cost) and t not in taken_tracks and d not in taken_detections:
                pairs.append((live[t], detections[d]))
                taken_tracks.add(t)
                taken_detections.add(d)
        for d, detection in enumerate(detections):
            if d not in taken_detections:
                self.tracks.append(Track(len(self.tracks)))
                pairs.append((self.tracks[-1], detection))
        for track, detection in pairs:
            track.add(row, detection)
        return pairs

    @staticmethod
    def _cost(track: Track, detection: HandDetection, row: int) -> float:
        distance = np.linalg.norm(box_centre(detection) - track.predicted_centre(row)) / track.size
        if distance > MAX_JUMP:
            return np.inf  # not this hand
        return distance + (LABEL_COST * detection.score if detection.side != track.side else 0.0)


def box_centre(detection: HandDetection) -> np.ndarray:
    box = detection.box
    return (box[:2] + box[2:]) / 2
