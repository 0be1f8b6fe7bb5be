"""Capture result files (.npz, docs/protocol.md) written with plain numpy, as the backend writes them: the add-on's
tests use these rather than backend code, so they pin the schema the add-on reads. Used by tests/blender scripts too."""
from __future__ import annotations

from pathlib import Path

import numpy as np


def track_arrays(frames, valid, score: float = 0.9, bend: float = 0.0) -> dict:
    """One track's arrays over footage ``frames``: a hand bent by ``bend`` radians at the index knuckle where
    ``valid``, the detector's ``score`` on every frame (the reader must average it over valid frames only)."""
    count = len(frames)
    hand_pose = np.zeros((count, 15, 3), np.float32)
    hand_pose[:, 0, 2] = bend
    return {"frames": np.asarray(frames, np.int64), "valid": np.asarray(valid, bool),
            "global_orient": np.zeros((count, 3), np.float32), "hand_pose": hand_pose,
            "betas": np.zeros((count, 10), np.float32), "cam_t": np.tile(np.float32([0, 0, 0.5]), (count, 1)),
            "joints3d": np.zeros((count, 21, 3), np.float32), "keypoints2d": np.zeros((count, 21, 2), np.float32),
            "keypoint_conf": np.ones((count, 21), np.float32), "uncertainty": np.full((count, 16), 7.0, np.float32),
            "score": np.full(count, score, np.float32)}


def write_result_file(path, tracks: dict, schema_version: int = 2) -> Path:
    """``tracks``: name -> track_arrays(...), in the order written. Schema 1 lists them under ``sides``."""
    path = Path(path)
    arrays = {"schema_version": np.int64(schema_version),
              "sides" if schema_version == 1 else "tracks": np.array(list(tracks)),
              "fps": np.float64(25.0), "image_size": np.array((640, 480), np.int64), "focal": np.float64(12500.0),
              "model_name": np.array("maskhand-k"), "model_version": np.array("1")}
    for name, fields in tracks.items():
        arrays.update({f"{name}/{field}": value for field, value in fields.items()})
    with open(path, "wb") as file:  # a file object: numpy would append ".npz" to a bare name
        np.savez_compressed(file, **arrays)
    return path
