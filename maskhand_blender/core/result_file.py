"""Reading a capture result (.npz, schema in docs/protocol.md) in Blender: numpy only, no pickles. bpy-free.

Schema 2 holds any number of hand tracks (header ``tracks``: ``right``, ``left``, then ``right_2``,
``left_2``, ...); schema 1 held one per side (header ``sides``), which reads as tracks ``right`` and ``left``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# Schema version -> the header entry that lists the tracks.
TRACK_LISTS = {1: "sides", 2: "tracks"}
# The fields the add-on uses, with their shape after the frame axis.
TRACK_FIELDS = {"frames": (), "valid": (), "global_orient": (3,), "hand_pose": (15, 3), "cam_t": (3,),
                "uncertainty": (16,), "keypoints2d": (21, 2), "score": ()}
TRACK_NAME = re.compile(r"(right|left)(?:_\d+)?")


class ResultFileError(Exception):
    """A result file the add-on cannot use; the message names the file and what to do."""


def track_side(name: str) -> str:
    """The side of a track: its name before an optional ``_N`` ("right_2" -> "right")."""
    match = TRACK_NAME.fullmatch(name)
    if match is None:
        raise ValueError(f"track name {name!r} is not 'right' or 'left' with an optional _N suffix")
    return match[1]


def track_label(name: str) -> str:
    """How the UI and action names spell a track: "right" -> "Right", "left_2" -> "Left 2"."""
    return name.replace("_", " ").capitalize()


@dataclass
class HandCapture:
    name: str                 # track name: "right", "left", "right_2", ...
    frames: np.ndarray        # (N,) footage frame numbers
    valid: np.ndarray         # (N,) bool: a hand was found
    pose: np.ndarray          # (N, 16, 3) axis-angle, MANO convention, that side's model
    cam_t: np.ndarray         # (N, 3) metres, camera frame (OpenCV axes)
    uncertainty: np.ndarray   # (N, 16) degrees
    keypoints2d: np.ndarray   # (N, 21, 2) pixels
    score: np.ndarray         # (N,) MediaPipe's confidence in the hand's side (its handedness score)

    @property
    def side(self) -> str:
        return track_side(self.name)

    @property
    def frames_found(self) -> int:
        return int(self.valid.sum())

    @property
    def mean_score(self) -> float:
        """Over the frames with a hand; 0 where there are none."""
        return float(self.score[self.valid].mean()) if self.valid.any() else 0.0


@dataclass
class Capture:
    path: Path
    fps: float
    image_size: tuple
    focal: float
    model_name: str
    hands: dict               # track name -> HandCapture, in file order


def read_capture(path: str | Path) -> Capture:
    path = Path(path)
    try:
        data = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise ResultFileError(f"capture result '{path}' not found: run the capture again") from None
    except (OSError, ValueError) as error:
        raise ResultFileError(f"'{path}' is not a MaskHand capture result ({error})") from None
    with data:
        if "schema_version" not in data.files:
            raise ResultFileError(f"'{path}' is not a MaskHand capture result (no schema_version)")
        version = int(data["schema_version"])
        if version not in TRACK_LISTS:
            known = " and ".join(str(known) for known in TRACK_LISTS)
            raise ResultFileError(f"'{path}' has result schema {version}; this add-on reads schema {known}: "
                                  "update the add-on and the backend together")
        hands = {}
        for name in data[TRACK_LISTS[version]].tolist():
            if TRACK_NAME.fullmatch(name) is None:
                raise ResultFileError(f"'{path}' holds a track named {name!r}, not 'right' or 'left' with an "
                                      "optional _N: the file is damaged; run the capture again")
            hands[name] = _read_track(data, path, name)
        return Capture(path, float(data["fps"]), tuple(int(v) for v in data["image_size"]), float(data["focal"]),
                       str(data["model_name"]), hands)


def _read_track(data, path: Path, name: str) -> HandCapture:
    fields = {}
    for field, shape in TRACK_FIELDS.items():
        key = f"{name}/{field}"
        if key not in data.files:
            raise ResultFileError(f"'{path}' lacks {key}: the file is incomplete; run the capture again")
        fields[field] = data[key]
        if fields[field].shape[1:] != shape or len(fields[field]) != len(fields["frames"]):
            raise ResultFileError(f"'{path}': {key} has shape {fields[field].shape}; the file is damaged")
    pose = np.concatenate([fields["global_orient"][:, None], fields["hand_pose"]], 1).astype(np.float64)
    return HandCapture(name, fields["frames"].astype(np.int64), fields["valid"].astype(bool), pose,
                       fields["cam_t"].astype(np.float64), fields["uncertainty"].astype(np.float64),
                       fields["keypoints2d"].astype(np.float64), fields["score"].astype(np.float64))


def nearest_track(candidates: list, reference: HandCapture) -> HandCapture | None:
    """The candidate hand whose 2D keypoints lie nearest ``reference``'s over the footage frames both hold a hand
    in (mean distance of the keypoints' centres), if that is within one hand size (the reference's keypoint
    extent); None when no candidate shares such a frame or all are further. A re-sampled span names its hands
    afresh, so its ``right`` may be the capture's ``right_2``: this finds the same hand, and no other."""
    reference_centres = {int(frame): centre for frame, centre, valid in
                         zip(reference.frames, reference.keypoints2d.mean(1), reference.valid) if valid}
    sizes = np.ptp(reference.keypoints2d[reference.valid], axis=1).max(-1) if reference.valid.any() else np.zeros(1)
    best, best_distance = None, float(np.median(sizes))
    for hand in candidates:
        distances = [np.linalg.norm(centre - reference_centres[int(frame)])
                     for frame, centre, valid in zip(hand.frames, hand.keypoints2d.mean(1), hand.valid)
                     if valid and int(frame) in reference_centres]
        if distances and np.mean(distances) <= best_distance:
            best, best_distance = hand, float(np.mean(distances))
    return best

