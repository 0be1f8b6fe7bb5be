"""Capture requests (docs/protocol.md): the one place the add-on builds what it asks the backend. bpy-free.

The panel's capture, a re-sampled span and the main job's picture all come through here. What the
backend decides is left to it: samples and iterations left out run the checkpoint's own, and the
temporal choice runs only where the hypotheses differ (its warning ``hypotheses_coincide`` says when not).
"""
from __future__ import annotations

import tempfile
import uuid
from pathlib import Path

# Fields left out when 0 or empty, for the backend's own: the whole footage, the checkpoint's samples and
# iterations, the bundled checkpoint, the built-in hand.
LEFT_OUT_WHEN_EMPTY = ("frame_end", "samples", "iterations", "checkpoint", "mano_folder")
# What a re-sampled span keeps of the capture it fixes.
CARRIED_TO_SPAN = ("max_hands", "mirrored", "iterations", "checkpoint", "mano_folder")
RESAMPLE_SAMPLES = 32  # at least: more hypotheses than a capture's, for the temporal choice to weigh


def capture_request(video: str, output_name: str = "capture.npz", **fields) -> dict:
    """A new job capturing ``video`` into ``output_name`` in a new temporary folder; ``fields`` are the
    request's others (frame_start, hands, samples, temporal, device, ...)."""
    job = uuid.uuid4().hex[:8]
    folder = Path(tempfile.mkdtemp(prefix=f"maskhand-{job}-"))
    kept = {key: value for key, value in fields.items() if value or key not in LEFT_OUT_WHEN_EMPTY}
    return {"job": job, "video": video, "output": str(folder / output_name), **kept}


def span_request(base: dict, video: str, frame_start: int, frame_end: int, side: str, device: str) -> dict:
    """Footage frames [frame_start, frame_end) of one side again, for the capture that asked ``base``: more
    samples and the temporal choice. Run it as ``CaptureJob(..., differing_hypotheses=True)``, which raises
    samples and iterations to the backend's rule for differing hypotheses once the backend has said it."""
    carried = {key: base[key] for key in CARRIED_TO_SPAN if key in base}
    return capture_request(video, "span.npz", **carried, frame_start=frame_start, frame_end=frame_end, hands=side,
                           samples=max(RESAMPLE_SAMPLES, base.get("samples") or 0), temporal=True, device=device)


def still_request(base: dict, frame: int, folder: Path) -> dict:
    """One footage frame of ``base``'s capture again, with the backend's picture of what it saw
    (``folder``/footage.png)."""
    return {**base, "job": base["job"] + "p", "frame_start": frame, "frame_end": frame + 1,
            "output": str(folder / "footage.npz"), "preview": str(folder / "footage.png")}
