"""The capture result: one versioned ``.npz`` per job (schema in docs/protocol.md).

Per hand track (``right``, ``left``, then ``right_2``, ``left_2``, ...: a track is one hand, its
side the name before the ``_N``), arrays keyed ``<track>/<field>``, one row per frame of the
captured range, frames without that hand included with ``valid=False``:

    frames (N,) int, valid (N,) bool, global_orient (N, 3) and hand_pose (N, 15, 3) axis-angle
    (MANO convention, flat-hand mean, that side's own model), betas (N, 10), cam_t (N, 3) metres,
    joints3d (N, 21, 3) metres (camera frame, OpenCV axes), keypoints2d (N, 21, 2) pixels,
    keypoint_conf (N, 21), uncertainty (N, 16) degrees, score (N,)

plus ``schema_version``, ``tracks`` (the names, in that order), ``fps``, ``image_size`` (width, height), ``focal`` (pixels),
``model_name``, ``model_version``. Readers refuse a schema version they do not know. Schema 1
(before several hands of a side) had ``sides`` where 2 has ``tracks``, and is read as such.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

SCHEMA_VERSION = 2
READABLE_VERSIONS = (1, 2)
TRACK_FIELDS = {
    "frames": ((), np.int64), "valid": ((), np.bool_), "global_orient": ((3,), np.float32),
    "hand_pose": ((15, 3), np.float32), "betas": ((10,), np.float32), "cam_t": ((3,), np.float32),
    "joints3d": ((21, 3), np.float32), "keypoints2d": ((21, 2), np.float32), "keypoint_conf": ((21,), np.float32),
    "uncertainty": ((16,), np.float32), "score": ((), np.float32),
}
HEADER_FIELDS = ("schema_version", "tracks", "fps", "image_size", "focal", "model_name", "model_version")


class ResultSchemaError(Exception):
    pass


def track_side(name: str) -> str:
    """The side of a track name: ``right_2`` -> ``right``."""
    return name.split("_")[0]


def empty_track(frames: np.ndarray) -> dict:
    """Arrays for one track over ``frames``, every frame invalid until filled."""
    arrays = {name: np.zeros((len(frames),) + shape, dtype) for name, (shape, dtype) in TRACK_FIELDS.items()}
    arrays["frames"][:] = frames
    return arrays


def write_result(path: str | Path, tracks: dict[str, dict], fps: float, image_size: tuple, focal: float,
                 model_name: str, model_version: str) -> Path:
    """``tracks``: name -> fields, in the order to list them."""
    path = Path(path)
    arrays = {"schema_version": np.int64(SCHEMA_VERSION), "tracks": np.array(list(tracks), dtype=str),
              "fps": np.float64(fps),
              "image_size": np.array(image_size, np.int64), "focal": np.float64(focal),
              "model_name": np.array(model_name), "model_version": np.array(model_version)}
    for track, fields in tracks.items():
        for name, (shape, dtype) in TRACK_FIELDS.items():
            arrays[f"{track}/{name}"] = np.asarray(fields[name], dtype)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as file:  # a file object: numpy would append ".npz" to a bare name
        np.savez_compressed(file, **arrays)
    return path


def read_result(path: str | Path) -> dict:
    """{"header": {...}, track: {field: array}} after checking the schema (tracks in the file's order)."""
    with np.load(path, allow_pickle=False) as data:
        if "schema_version" not in data:
            raise ResultSchemaError(f"'{path}' is not a MaskHand result (no schema_version)")
        version = int(data["schema_version"])
        if version not in READABLE_VERSIONS:
            raise ResultSchemaError(f"'{path}' has result schema {version}; this reader knows {READABLE_VERSIONS}")
        names = {name: "sides" if name == "tracks" and version == 1 else name for name in HEADER_FIELDS}
        header = {name: data[key].item() if data[key].ndim == 0 else data[key] for name, key in names.items()}
        result = {"header": header}
        for track in header["tracks"].tolist():
            result[track] = {name: data[f"{track}/{name}"] for name in TRACK_FIELDS}
            count = len(result[track]["frames"])
            for name, (shape, _) in TRACK_FIELDS.items():
                if result[track][name].shape != (count,) + shape:
                    raise ResultSchemaError(f"'{path}': {track}/{name} has shape {result[track][name].shape}, "
                                            f"expected {(count,) + shape}")
    return result
