"""Footage in, per-frame MaskHand results out: one capture job as a short list of stages, each a module.

footage (open, check the range, decode) -> tracking (detect and track; the estimation worker estimates each
chunk of detections as the side its track holds so far; the tracks settle into the result's hands and the
detections whose side changed are estimated again) -> choice (per hand: the pose along the motion, refined,
placed in the camera) -> outputs (the result and, if asked for, the preview, drawn in a second decoding pass
once the final poses are chosen). Memory stays flat in the footage's length (backend.capture.tracking).
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

from .choice import choose_poses
from .estimation import resolve_device
from .footage import check_decoded, checked_range, open_footage
from .outputs import StagedOutputs, write_outputs
from .protocol import Cancelled, CaptureRequest
from .tracking import settle_hands, track_hands


def run_capture(request: CaptureRequest, progress: Callable = lambda **_: None, warn: Callable = lambda *_: None,
                cancelled: Callable[[], bool] = lambda: False) -> dict:
    """Run one capture job; returns a summary. Raises ProtocolError (bad input) or Cancelled.

    Nothing is left at the output paths unless the whole job succeeds."""
    started, start = time.monotonic(), request.frame_start
    footage = open_footage(request.video)
    expected = checked_range(footage, start, request.frame_end)
    outputs = StagedOutputs({"output": request.output, "preview": request.preview}, inputs=(request.video,))
    device = resolve_device(request.device, warn)
    progress(stage="loading", frame=0, total=expected or 0)
    tracked = track_hands(footage, request, device, expected, progress, warn, cancelled)
    decoded, estimator = tracked.decoded, tracked.estimator
    check_decoded(footage, start, decoded, expected, warn)
    if cancelled():
        raise Cancelled()
    hands, relabelled = settle_hands(tracked, request, warn)
    progress(stage="smoothing", frame=decoded, total=decoded)
    results = choose_poses(hands, tracked.estimates, estimator, start, decoded, request, footage)
    found = {name: int(arrays["valid"].sum()) for name, arrays in results.items()}
    if not any(found.values()):
        warn("no_hands", f"no hands were found in '{footage.path.name}' (frames {start}-{start + decoded - 1})")
    write_outputs(outputs, request, footage, results, estimator, decoded, progress, cancelled)
    return {"result": str(Path(request.output).resolve()), "frames": decoded, "expected_frames": expected,
            "hands": found, "relabelled_frames": relabelled, "device": estimator.device, "engine": request.engine,
            "seconds": round(time.monotonic() - started, 3)}
