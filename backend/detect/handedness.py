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

from ..frame_runs import true_runs
from .mediapipe_hands import box_area, keypoint_box, share_inside

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
        for run in true_runs(tracks[side].valid):
            if len(run) <= BLIP_FRAMES and all(tracks[other].valid[r] and _nested(tracks[side].keypoints2d[r],
                                                                                 tracks[other].keypoints2d[r])
                                               for r in run):
                drops += [(r, side) for r in run]
    return sorted(drops)


def _nested(small: np.ndarray, large: np.ndarray) -> bool:
    """Keypoints (21, 2) ``small`` have the smaller box, mostly inside the box of ``large``."""
    small_box, large_box = keypoint_box(small), keypoint_box(large)
    return 0 < box_area(small_box) <= box_area(large_box) and share_inside(small_box, large_box) >= NESTED


def relabelled_frames(tracks: dict[str, SideTrack]) -> list[tuple[int, str, str]]:
    """Frames whose hand belongs to the other side: [(frame row, from side, to side)].

    Needs both sides; with one side captured a hand labelled as the other is never taken."""
    if set(tracks) != {"left", "right"}:
        return []
    left, right = tracks["left"], tracks["right"]
    single = left.valid ^ right.valid
    moves = []
    for run in _continuous_runs(single, tracks):
        sides = ["right" if right.valid[row] else "left" for row in run]
        votes = sum((1.0 if side == "right" else -1.0) * max(float(tracks[side].score[row]), 1e-3)
                    for row, side in zip(run, sides))
        if votes == 0:
            continue
        majority = "right" if votes > 0 else "left"
        moves += [(row, side, majority) for row, side in zip(run, sides) if side != majority]
    return moves


def _continuous_runs(single: np.ndarray, tracks: dict[str, SideTrack]):
    """Runs of consecutive single-hand frames, split where the hand jumps between frames."""
    for frames in true_runs(single):
        run, previous = [], None
        for row in frames:
            keypoints = tracks["right" if tracks["right"].valid[row] else "left"].keypoints2d[row]
            centre, size = keypoints.mean(0), max(float(np.ptp(keypoints, 0).max()), 1.0)
            if previous is not None and np.linalg.norm(centre - previous) > MAX_STEP * size:
                yield run
                run = []
            run.append(row)
            previous = centre
        yield run
