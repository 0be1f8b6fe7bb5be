"""Where the capture is unsure: runs of frames whose uncertainty passes a threshold. bpy-free."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Span:
    start: int          # first row of the span
    end: int            # last row of the span (inclusive)
    worst_joint: int    # column of the highest uncertainty inside the span
    worst: float        # that uncertainty (degrees), over the frames with a hand; inf when none has one


def unsure_rows(uncertainty: np.ndarray, valid: np.ndarray, threshold: float) -> np.ndarray:
    """(N,) bool: frames where any joint's uncertainty (N, J) passes ``threshold``, or no hand was found."""
    return ~valid | (uncertainty.max(1) > threshold)


def uncertain_spans(uncertainty: np.ndarray, valid: np.ndarray, threshold: float, merge_gap: int = 1) -> list:
    """Runs of unsure frames; runs separated by at most ``merge_gap`` sure frames become one span."""
    unsure = unsure_rows(uncertainty, valid, threshold)
    rows = np.flatnonzero(unsure)
    if len(rows) == 0:
        return []
    breaks = np.flatnonzero(np.diff(rows) > merge_gap + 1)
    starts = np.concatenate([[rows[0]], rows[breaks + 1]])
    ends = np.concatenate([rows[breaks], [rows[-1]]])
    spans = []
    for start, end in zip(starts, ends):
        if not valid[start:end + 1].any():
            spans.append(Span(int(start), int(end), 0, float("inf")))
            continue
        block = np.where(valid[start:end + 1, None], uncertainty[start:end + 1], -np.inf)
        row, joint = np.unravel_index(np.argmax(block), block.shape)
        spans.append(Span(int(start), int(end), int(joint), float(block[row, joint])))
    return spans
