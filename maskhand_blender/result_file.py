"""Reading a capture result (.npz, schema in docs/protocol.md) in Blender: numpy only, no pickles. bpy-free."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

SCHEMA_VERSION = 1
# The fields the add-on uses, with their shape after the frame axis.
SIDE_FIELDS = {"frames": (), "valid": (), "global_orient": (3,), "hand_pose": (15, 3), "cam_t": (3,),
               "uncertainty": (16,), "keypoints2d": (21, 2)}


class ResultFileError(Exception):
    """A result file the add-on cannot use; the message names the file and what to do."""


@dataclass
class HandCapture:
    side: str
    frames: np.ndarray        # (N,) footage frame numbers
    valid: np.ndarray         # (N,) bool: a hand was found
    pose: np.ndarray          # (N, 16, 3) axis-angle, MANO convention, that side's model
    cam_t: np.ndarray         # (N, 3) metres, camera frame (OpenCV axes)
    uncertainty: np.ndarray   # (N, 16) degrees
    keypoints2d: np.ndarray   # (N, 21, 2) pixels


@dataclass
class Capture:
    path: Path
    fps: float
    image_size: tuple
    focal: float
    model_name: str
    hands: dict               # side -> HandCapture


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
        if version != SCHEMA_VERSION:
            raise ResultFileError(f"'{path}' has result schema {version}; this add-on reads schema {SCHEMA_VERSION}: "
                                  "update the add-on and the backend together")
        hands = {}
        for side in data["sides"].tolist():
            fields = {}
            for name, shape in SIDE_FIELDS.items():
                key = f"{side}/{name}"
                if key not in data.files:
                    raise ResultFileError(f"'{path}' lacks {key}: the file is incomplete; run the capture again")
                fields[name] = data[key]
                if fields[name].shape[1:] != shape or len(fields[name]) != len(fields["frames"]):
                    raise ResultFileError(f"'{path}': {key} has shape {fields[name].shape}; the file is damaged")
            pose = np.concatenate([fields["global_orient"][:, None], fields["hand_pose"]], 1).astype(np.float64)
            hands[side] = HandCapture(side, fields["frames"].astype(np.int64), fields["valid"].astype(bool), pose,
                                      fields["cam_t"].astype(np.float64), fields["uncertainty"].astype(np.float64),
                                      fields["keypoints2d"].astype(np.float64))
        return Capture(path, float(data["fps"]), tuple(int(v) for v in data["image_size"]), float(data["focal"]),
                       str(data["model_name"]), hands)
