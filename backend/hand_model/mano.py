"""MANO from the user's own licence-gated files, read without executing the pickle.

The official ``MANO_RIGHT.pkl`` / ``MANO_LEFT.pkl`` are Python 2 pickles whose arrays are
partly chumpy objects, and chumpy no longer imports on current numpy. ``SafeManoUnpickler``
admits only numpy arrays, scipy sparse matrices and chumpy's plain ``Ch`` (whose pickled
state carries its array in ``x``); anything else a pickle asks for is refused, so a
malicious file cannot run code. The loaded arrays become ``HandModelData`` for our FK.

Pose convention: we use MANO with ``flat_hand_mean=True`` (smplx's name): a zero pose is
the flat hand, and the file's ``hands_mean`` is not added (HO3D's annotations use the same;
FreiHAND's add the mean, and its loader converts). A silent mismatch would bend every finger.
"""
from __future__ import annotations

import codecs
import pickle
from pathlib import Path

import numpy as np
import scipy.sparse

from .layout import MANO_TIP_VERTEX_IDS, PARENTS, SIDES
from .model import HandModelData

MANO_URL = "https://mano.is.tue.mpg.de"
NUM_VERTICES = 778


class ManoModelError(Exception):
    """The MANO files are missing, unreadable, unsafe or not MANO."""


class _ChumpyArray:
    """Stands in for ``chumpy.ch.Ch`` while unpickling; keeps only its state."""

    def __setstate__(self, state):
        self.state = state

    def to_numpy(self) -> np.ndarray:
        if not isinstance(getattr(self, "state", None), dict) or "x" not in self.state:
            raise pickle.UnpicklingError("a chumpy object without an 'x' array")
        return np.asarray(self.state["x"])


def _latin1_encode(text, encoding="latin1"):
    if encoding != "latin1":
        raise pickle.UnpicklingError(f"refusing to encode with codec {encoding!r}")
    return codecs.encode(text, encoding)


def _safe_reconstructor(cls, base, state):
    """copyreg._reconstructor, limited to ``object`` as base; ``cls`` has passed the allowlist."""
    if base is not object:
        raise pickle.UnpicklingError(f"refusing to reconstruct {cls!r} from base {base!r}")
    return object.__new__(cls)


# Every global a MANO file may name. Python 2 and numpy 2 spell some of them differently.
_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"): np.core.multiarray._reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): np.core.multiarray._reconstruct,
    ("numpy.core.multiarray", "scalar"): np.core.multiarray.scalar,
    ("numpy._core.multiarray", "scalar"): np.core.multiarray.scalar,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("copy_reg", "_reconstructor"): _safe_reconstructor,
    ("copyreg", "_reconstructor"): _safe_reconstructor,
    ("__builtin__", "object"): object,
    ("builtins", "object"): object,
    ("__builtin__", "set"): set,  # chumpy keeps a set of dirty names in its pickled state
    ("builtins", "set"): set,
    ("scipy.sparse.csc", "csc_matrix"): scipy.sparse.csc_matrix,
    ("scipy.sparse._csc", "csc_matrix"): scipy.sparse.csc_matrix,
    ("scipy.sparse.csr", "csr_matrix"): scipy.sparse.csr_matrix,
    ("scipy.sparse._csr", "csr_matrix"): scipy.sparse.csr_matrix,
    ("chumpy.ch", "Ch"): _ChumpyArray,
    # Python 3 writes bytes in protocol 2 as _codecs.encode(text, "latin1"): files re-saved without chumpy.
    ("_codecs", "encode"): _latin1_encode,
}


class SafeManoUnpickler(pickle.Unpickler):
    """An unpickler that resolves only the globals a MANO model file needs."""

    def find_class(self, module, name):
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"refusing to load '{module}.{name}': a MANO file holds only arrays, "
                "so this file is not a MANO model (or has been tampered with)") from None


def safe_load_pickle(path: Path) -> dict:
    """Unpickle a MANO-format file with ``SafeManoUnpickler``; chumpy arrays become numpy."""
    with open(path, "rb") as file:
        data = SafeManoUnpickler(file, encoding="latin1").load()
    if not isinstance(data, dict):
        raise pickle.UnpicklingError(f"expected a dict of arrays, found {type(data).__name__}")
    return {key: value.to_numpy() if isinstance(value, _ChumpyArray) else value for key, value in data.items()}


def mano_file(folder: Path, side: str) -> Path:
    if side not in SIDES:
        raise ValueError(f"hand side must be one of {SIDES}, not {side!r}")
    return Path(folder) / f"MANO_{side.upper()}.pkl"


def load_mano_data(folder: str | Path, side: str) -> HandModelData:
    """Read ``MANO_RIGHT.pkl`` or ``MANO_LEFT.pkl`` from ``folder`` as ``HandModelData``."""
    path = mano_file(Path(folder).expanduser(), side)
    if not path.is_file():
        raise ManoModelError(
            f"MANO model not found: looked for {path.name} in '{path.parent}'. MANO is licence-gated, "
            f"so we cannot ship it: register at {MANO_URL}, download the MANO model files, and set the "
            "folder that holds MANO_RIGHT.pkl and MANO_LEFT.pkl (or leave it empty to use the built-in hand).")
    try:
        raw = safe_load_pickle(path)
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError) as error:
        raise ManoModelError(f"'{path}' could not be read as a MANO model: {error}") from None
    data = _hand_model_data(raw, side, path)
    if side == "left":
        data = _fix_left_shapedirs(data, Path(folder).expanduser())
    return data


def _hand_model_data(raw: dict, side: str, path: Path) -> HandModelData:
    required = ("v_template", "shapedirs", "posedirs", "J_regressor", "weights", "f", "kintree_table")
    missing = [key for key in required if key not in raw]
    if missing:
        raise ManoModelError(f"'{path}' is not a MANO model: it lacks {', '.join(missing)}")

    def dense(key):
        value = raw[key]
        return value.toarray() if scipy.sparse.issparse(value) else np.asarray(value)

    v_template = dense("v_template").astype(np.float64)
    if v_template.shape != (NUM_VERTICES, 3):
        raise ManoModelError(f"'{path}' is not a MANO hand: v_template has shape {v_template.shape}, "
                             f"expected ({NUM_VERTICES}, 3)")
    parents = dense("kintree_table")[0].astype(np.int64)
    parents[0] = -1  # MANO stores the root's parent as a large sentinel
    if tuple(parents) != PARENTS:
        raise ManoModelError(f"'{path}' has a kinematic tree {tuple(parents)} that is not MANO's {PARENTS}")
    try:
        return HandModelData(
            name="mano", side=side, v_template=v_template,
            shapedirs=dense("shapedirs").astype(np.float64),
            posedirs=dense("posedirs").astype(np.float64),
            J_regressor=dense("J_regressor").astype(np.float64),
            weights=dense("weights").astype(np.float64),
            faces=dense("f").astype(np.int64),
            tip_vertex_ids=MANO_TIP_VERTEX_IDS,
            hands_mean=dense("hands_mean").astype(np.float64).reshape(45) if "hands_mean" in raw else None,
        )
    except ValueError as error:
        raise ManoModelError(f"'{path}' is not a usable MANO model: {error}") from None


def _fix_left_shapedirs(left: HandModelData, folder: Path) -> HandModelData:
    """Work around the released MANO_LEFT.pkl's unmirrored shape space.

    In the public left model the x component of shapedirs equals the right model's instead
    of its negation, so betas move left-hand joints the wrong way. HaMeR, InterHand2.6M and
    others detect that against the right model and flip it; so do we.
    """
    right_path = mano_file(folder, "right")
    if not right_path.is_file():
        return left
    right_shapedirs = np.asarray(safe_load_pickle(right_path)["shapedirs"])
    if right_shapedirs.shape != left.shapedirs.shape:
        return left
    if np.abs(left.shapedirs[:, 0] - right_shapedirs[:, 0]).sum() >= 1.0:
        return left
    shapedirs = left.shapedirs.copy()
    shapedirs[:, 0] *= -1
    return HandModelData(**{**left.__dict__, "shapedirs": shapedirs})

