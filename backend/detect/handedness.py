"""One handedness per hand over time: fixes MediaPipe's label flips while a single hand is in view.

MediaPipe decides left or right per frame from the hand's appearance, and an open hand seen
from the front or the back is close to a mirror image of the other side: with one hand in view
the label can flip for a few frames at a time. The tracker (``tracker.HandTracker``) keeps two
hands apart by position, but a lone hand has no partner to be told from, so a flipped label
moves it to the other side's track and the capture keys a second, spurious hand.

Once the footage is read, each *run* of frames in which exactly one hand is seen and it moves
continuously (no gap, no jump) is one physical hand. Its side is the majority of the per-frame
labels weighted by MediaPipe's handedness confidence, and the run's frames that were filed
under the other side move to it. Runs with both hands in view are left to the tracker, except a second "hand" that lives a frame
or two nested inside the first one's box: a piece of that hand, which the lone hand's run absorbs.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_STEP = 1.0  # hand sizes the hand's centre may move between consecutive frames of one run
BLIP_FRAMES = 2  # a nested second detection seen for at most this many frames in a row is a blip
NESTED = 0.7     # share of the smaller box inside the larger one


@dataclass
class SideTrack:
    """One side's per-frame detections as the pipeline stored them."""

    valid: np.ndarray        # (N,) bool
    keypoints2d: np.ndarray  # (N, 21, 2) pixels
    score: np.ndarray        # (N,) handedness confidence


def nested_blips(tracks: dict[str, SideTrack]) -> list[tuple[int, str]]:
    """Short-lived detections nested inside the other side's hand: [(frame row, side)] to drop.

    Two real hands that overlap (interlocked fingers) stay overlapped for many frames; a blip
    of ``BLIP_FRAMES`` or fewer, mostly inside the other hand's box and smaller than it, is a
    fragment of that hand which MediaPipe fitted for a moment."""
    if set(tracks) != {"left", "right"}:
        return []
    drops = []
    for side, other in (("left", "right"), ("right", "left")):
        valid = tracks[side].valid
        row = 0
        while row < len(valid):
            if not valid[row]:
                row += 1
                continue
            end = row
            while end < len(valid) and valid[end]:
                end += 1
            run = range(row, end)
            if len(run) <= BLIP_FRAMES and all(tracks[other].valid[r] and _nested(tracks[side].keypoints2d[r],
                                                                                 tracks[other].keypoints2d[r])
                                               for r in run):
                drops += [(r, side) for r in run]
            row = end
    return sorted(drops)


def _nested(small: np.ndarray, large: np.ndarray) -> bool:
    """Keypoints (21, 2) ``small`` have the smaller box, mostly inside the box of ``large``."""
    low_s, high_s, low_l, high_l = small.min(0), small.max(0), large.min(0), large.max(0)
    area_s, area_l = np.prod(high_s - low_s), np.prod(high_l - low_l)
    overlap = np.prod(np.clip(np.minimum(high_s, high_l) - np.maximum(low_s, low_l), 0, None))
    return bool(0 < area_s <= area_l and overlap >= NESTED * area_s)


def relabelled_frames(tracks: dict[str, SideTrack]) -> list[tuple[int, str, str]]:
    """Frames whose hand belongs to the other side: [(frame row, from side, to side)].

    Needs both sides; with one side captured a hand labelled as the other is never taken."""
    if set(tracks) != {"left", "right"}:
        return []
    left, right = tracks["left"], tracks["right"]
    count = min(len(left.valid), len(right.valid))
    single = left.valid[:count] ^ right.valid[:count]
    moves = []
    for run in _continuous_runs(single, tracks, count):
        sides = ["right" if right.valid[row] else "left" for row in run]
        votes = sum((1.0 if side == "right" else -1.0) * max(float(tracks[side].score[row]), 1e-3)
                    for row, side in zip(run, sides))
        if votes == 0:
            continue
        majority = "right" if votes > 0 else "left"
        moves += [(row, side, majority) for row, side in zip(run, sides) if side != majority]
    return moves


def _continuous_runs(single: np.ndarray, tracks: dict[str, SideTrack], count: int):
    """Maximal runs of consecutive single-hand frames whose hand does not jump between frames."""
    run, previous = [], None
    for row in range(count):
        if not single[row]:
            if run:
                yield run
            run, previous = [], None
            continue
        keypoints = tracks["right" if tracks["right"].valid[row] else "left"].keypoints2d[row]
        centre, size = keypoints.mean(0), max(float(np.ptp(keypoints, 0).max()), 1.0)
        if previous is not None and np.linalg.norm(centre - previous) > MAX_STEP * size:
            yield run
            run = []
        run.append(row)
        previous = centre
    if run:
        yield run
