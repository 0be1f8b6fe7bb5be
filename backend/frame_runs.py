"""Runs of consecutive frames where a flag holds (a hand was found, one hand is in view)."""
from __future__ import annotations

import numpy as np


def true_runs(flags: np.ndarray) -> list[range]:
    """The maximal runs of True in a (N,) bool array, as ranges of frame rows."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], np.asarray(flags, np.int8), [0]])))
    return [range(int(start), int(end)) for start, end in zip(edges[::2], edges[1::2])]
