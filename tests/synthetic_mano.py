"""Writes small synthetic MANO-format model files for tests (real MANO is licence-gated).

The arrays are random but have the real shapes and kinds: a sparse joint regressor,
normalised skinning weights, a kinematic tree with MANO's root sentinel, a non-zero
``hands_mean``, and, as in the official files, some arrays stored as chumpy ``Ch``
objects. chumpy itself is not needed: a stand-in class is pickled under its name.
"""
from __future__ import annotations

import contextlib
import pickle
import sys
import types
from pathlib import Path

import numpy as np
import scipy.sparse

from backend.hand_model.layout import PARENTS

NUM_VERTICES = 778
NUM_FACES = 1538
CHUMPY_FIELDS = ("v_template", "shapedirs", "posedirs", "weights", "J")


class Ch:
    """Pickles like ``chumpy.ch.Ch``: class chumpy.ch.Ch, state dict with the array in 'x'."""

    __module__ = "chumpy.ch"

    def __init__(self, array):
        self.x = array
        self._dirty_vars = set()
        self._itr = None
        self._depends_on_deps = {}
        self._make_dense = False
        self._make_sparse = False


@contextlib.contextmanager
def _chumpy_name_for_pickling():
    chumpy, chumpy_ch = types.ModuleType("chumpy"), types.ModuleType("chumpy.ch")
    chumpy_ch.Ch = Ch
    saved = {name: sys.modules.get(name) for name in ("chumpy", "chumpy.ch")}
    sys.modules.update({"chumpy": chumpy, "chumpy.ch": chumpy_ch})
    try:
        yield
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module


def synthetic_mano_arrays(seed: int) -> dict:
    """A dict of plain arrays shaped like a MANO model file's."""
    rng = np.random.default_rng(seed)
    v_template = rng.normal(scale=0.04, size=(NUM_VERTICES, 3))
    regressor = np.zeros((16, NUM_VERTICES))
    for joint in range(16):
        support = rng.choice(NUM_VERTICES, size=12, replace=False)
        regressor[joint, support] = rng.dirichlet(np.ones(12))
    weights = rng.dirichlet(np.full(16, 0.3), size=NUM_VERTICES)
    kintree = np.array([PARENTS, range(16)], dtype=np.int64)
    kintree[0, 0] = 4294967295  # MANO's root "parent"
    return {
        "v_template": v_template,
        "shapedirs": rng.normal(scale=0.01, size=(NUM_VERTICES, 3, 10)),
        "posedirs": rng.normal(scale=0.002, size=(NUM_VERTICES, 3, 135)),
        "J_regressor": scipy.sparse.csc_matrix(regressor),
        "J": regressor @ v_template,
        "weights": weights,
        "kintree_table": kintree,
        "f": rng.integers(0, NUM_VERTICES, size=(NUM_FACES, 3)).astype(np.uint32),
        "hands_components": np.linalg.qr(rng.normal(size=(45, 45)))[0],
        "hands_mean": rng.normal(scale=0.3, size=45),
        "bs_style": "lbs",
        "bs_type": "lrotmin",
    }


def write_mano_file(path: Path, arrays: dict, as_chumpy: bool = True) -> Path:
    """Pickle ``arrays`` (protocol 2, as the official Python 2 files) to ``path``."""
    data = {key: Ch(value) if as_chumpy and key in CHUMPY_FIELDS else value for key, value in arrays.items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    with _chumpy_name_for_pickling(), open(path, "wb") as file:
        pickle.dump(data, file, protocol=2)
    return path


def write_mano_folder(folder: Path, seed: int = 0, as_chumpy: bool = True) -> dict:
    """MANO_RIGHT.pkl and MANO_LEFT.pkl in ``folder``; returns {side: arrays}."""
    arrays = {"right": synthetic_mano_arrays(seed), "left": synthetic_mano_arrays(seed + 1)}
    for side, side_arrays in arrays.items():
        write_mano_file(folder / f"MANO_{side.upper()}.pkl", side_arrays, as_chumpy)
    return arrays
