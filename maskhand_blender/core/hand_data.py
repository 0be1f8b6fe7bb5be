"""The built-in hand's rest data (data/builtin_hand.npz, written by tools/export_hand_data.py). bpy-free."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from .retarget import HandRest

DATA_FILE = Path(__file__).resolve().parent.parent / "data" / "builtin_hand.npz"
SIDES = ("right", "left")


@lru_cache(maxsize=None)
def _arrays() -> dict:
    with np.load(DATA_FILE, allow_pickle=False) as data:
        return {name: data[name] for name in data.files}


def joint_names() -> list:
    return _arrays()["joint_names"].tolist()


def load_hand_rest(side: str, points: np.ndarray | None = None) -> HandRest:
    """The rest pose of ``side``: the built-in hand's, or ``points`` (21, 3) from a capture's own model."""
    arrays = _arrays()
    rest = arrays[f"{side}/rest_points"] if points is None else np.asarray(points)
    return HandRest(rest.astype(np.float64), arrays["parents"], arrays["bone_end_point"])


def hand_mesh(side: str):
    """(vertices (V, 3), faces (F, 3), skin weights (V, 16)) of the built-in hand at rest."""
    arrays = _arrays()
    return arrays[f"{side}/vertices"], arrays[f"{side}/faces"], arrays[f"{side}/weights"]
