"""Settling the tracks once the footage is read: which hands to keep, their sides and names.

``tracker.HandTracker`` gives one track per stretch of continuous motion of one hand, with the
vote of its labels. Here, in order:

1. **Blips.** A detection that sits mostly inside the box of a hand seen for longer, and is
   smaller, for at most ``BLIP_FRAMES`` frames in a row of its track, is a piece of that hand
   which MediaPipe fitted for a moment (seen on fists: a second skeleton on the fingers): it is
   dropped from its track, and a track left empty goes. Two real hands that overlap (interlocked
   fingers) stay so for many frames; a hand passing in front of a larger one may lose a frame or two.
2. **Sides.** Each track takes the side its labels vote for, and no track is relabelled to fill a
   side that has no hand. One deliberate exception, where the user says which hand it is: when
   they ask for one side only and the footage never holds two hands at once, the one hand in
   view is that side whatever MediaPipe calls it (on renders and side views MediaPipe often
   calls a right hand left); the capture warns when it overrules the labels so. Tracks of a
   side not asked for go.
3. **Names.** Tracks of one side whose spans of frames do not overlap are taken as one hand that
   left the view and came back, and joined (longest first, each into the first hand it fits).
   The joined hands of a side are named by the frames they hold, most first: ``right``,
   ``right_2``, ... (``left``, ``left_2``, ...).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..frame_runs import true_runs
from .detection import box_area, share_inside
from .tracker import Track

BLIP_FRAMES = 2  # a nested detection seen for at most this many frames is a blip
NESTED = 0.7     # share of the smaller box inside the larger one


@dataclass
class SettledHand:
    """One hand of the result: its name and side, and the tracks that make it (their spans do not overlap)."""

    name: str
    side: str
    tracks: list

    @property
    def frame_count(self) -> int:
        return sum(len(track.rows) for track in self.tracks)


@dataclass
class Settled:
    """The hands to write, in name order (``right``, ``left``, ``right_2``, ...; a side asked for with no hand is
    there, empty); and, where the user's one-sided request overruled MediaPipe's labels, the side they voted for."""

    hands: list
    overruled_side: str | None = None


def settle_tracks(tracks: list[Track], sides: tuple) -> Settled:
    """Blips dropped, sides settled, tracks joined and named (see the module's docstring)."""
    frames_of = _frames_by_row(tracks)
    lengths = {track.id: len(track.rows) for track in tracks}
    kept = [track for track in (_without_blips(track, frames_of, lengths) for track in tracks) if track.rows]
    side_of = {track.id: track.side for track in kept}
    overruled = None
    if len(sides) == 1 and kept and sides[0] not in side_of.values() and not _any_overlap(kept):
        overruled = kept[0].side
        side_of = {track.id: sides[0] for track in kept}
    hands = {}
    for side in sides:
        groups: list[list[Track]] = []
        for track in sorted((t for t in kept if side_of[t.id] == side), key=lambda t: (-len(t.rows), t.id)):
            group = next((g for g in groups if not any(_overlap(track, other) for other in g)), None)
            if group is None:
                groups.append([track])
            else:
                group.append(track)
        groups.sort(key=lambda g: -sum(len(t.rows) for t in g))
        hands[side] = [SettledHand(side if n == 0 else f"{side}_{n + 1}", side, sorted(g, key=lambda t: t.rows[0]))
                       for n, g in enumerate(groups)] or [SettledHand(side, side, [])]  # every side asked for is written
    ordered = []
    for rank in range(max((len(h) for h in hands.values()), default=0)):
        ordered += [hands[side][rank] for side in ("right", "left") if side in hands and rank < len(hands[side])]
    return Settled(ordered, overruled)


def _overlap(a: Track, b: Track) -> bool:
    """The two tracks' spans of frames overlap: both hands were in view at once."""
    return a.rows[0] <= b.rows[-1] and b.rows[0] <= a.rows[-1]


def _any_overlap(tracks: list[Track]) -> bool:
    return any(_overlap(a, b) for i, a in enumerate(tracks) for b in tracks[i + 1:])


def _frames_by_row(tracks: list[Track]) -> dict:
    """{frame row: [(track id, detection)]} over all tracks."""
    by_row: dict = {}
    for track in tracks:
        for row, detection in zip(track.rows, track.detections):
            by_row.setdefault(row, []).append((track.id, detection))
    return by_row


def _without_blips(track: Track, frames_of: dict, lengths: dict) -> Track:
    """``track`` less its short runs of detections nested inside a lasting track's (a new Track, vote recounted).
    Only a hand seen for longer than a blip can hold one: in a still, a hand inside another's box is a hand."""
    nested = [any(other_id != track.id and lengths[other_id] > BLIP_FRAMES and _nested(detection.box, other.box)
                  for other_id, other in frames_of[row])
              for row, detection in zip(track.rows, track.detections)]
    drop = {position for run in true_runs(np.array(nested, bool)) if len(run) <= BLIP_FRAMES for position in run}
    if not drop:
        return track
    kept = Track(track.id)
    for position, (row, detection) in enumerate(zip(track.rows, track.detections)):
        if position not in drop:
            kept.add(row, detection)
    return kept


def _nested(small, large) -> bool:
    """Box ``small`` is the smaller one and lies mostly inside box ``large``."""
    return 0 < box_area(small) <= box_area(large) and share_inside(small, large) >= NESTED
