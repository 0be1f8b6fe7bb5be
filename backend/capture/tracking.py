"""The detection and tracking stage: find and track the hands in each decoded frame, and feed them in chunks
to the estimation worker as the side each track holds so far; once the footage is read, settle the tracks into
the result's hands (backend.detect.handedness) and estimate again the detections whose side changed.

Streaming: only a chunk of detections (``CHUNK_FRAMES`` frames' worth) is held while its hands are
estimated in one batch, so memory stays flat in the footage's length.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable

from ..detect.handedness import SettledHand, settle_tracks
from ..detect.hands import HandDetector
from ..detect.tracker import HandTracker
from .estimation import (Estimates, PoseEstimator, available_cores, estimate_chunk, network_threads,
                         torch_threads)
from .footage import Footage
from .protocol import Cancelled, CaptureRequest

CHUNK_FRAMES = 16
# The first chunks are smaller (2, 4, 8 frames, then CHUNK_FRAMES), so the network starts after two
# frames instead of sixteen: on a CPU it sets the pace, and it sat idle while the first sixteen were
# detected (bench/bench_pipeline.py). Fixed sizes, not ones chosen by timing, keep results reproducible.
FIRST_CHUNK_FRAMES = 2


@dataclass
class Tracked:
    """What reading the footage left: the tracks, what was estimated for their detections, and the model."""

    tracker: HandTracker
    estimates: Estimates
    estimator: PoseEstimator
    decoded: int            # frames decoded from the range's start


def track_hands(footage: Footage, request: CaptureRequest, device: str, expected: int | None, progress: Callable,
                warn: Callable, cancelled: Callable[[], bool]) -> Tracked:
    """Decode, detect and track every frame of the request's range, estimating each chunk's detections on a
    worker thread. Raises Cancelled between chunks when ``cancelled()``."""
    start, sides = request.frame_start, request.sides
    estimates, tracker = Estimates(), HandTracker()
    decoded, chunk, ends = 0, [], chunk_ends()
    chunk_end = next(ends)
    # Detection (MediaPipe's networks in ONNX Runtime, this thread) and estimation (torch or ONNX Runtime, a
    # worker thread) overlap; both release the GIL while their networks run:
    # while the network works on one chunk, the next chunk's frames are decoded and detected.
    with torch_threads(network_threads()), \
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="estimate") as worker:
        # The model loads in the worker while the detector starts here (ONNX Runtime's sessions take ~0.1 s);
        # a bad checkpoint is reported when the first chunk needs it.
        loading = worker.submit(PoseEstimator, request, device, warn)
        with HandDetector(max_hands=request.max_hands, video=not footage.is_image, device=device,
                          threads=network_threads()) as detector:
            in_flight = None
            for index, frame in footage.frames(start, request.frame_end, request.mirrored):
                detections = detector.detect(frame)
                for track, detection in tracker.update(index - start, detections):
                    side = _provisional_side(track, sides, len(detections))
                    if side is not None:
                        chunk.append((track.id, index - start, side, detection))
                decoded += 1
                if decoded == chunk_end:
                    estimator = loading.result()
                    if in_flight is not None:
                        in_flight.result()  # at most one chunk in flight: memory stays flat
                    in_flight = worker.submit(estimate_chunk, chunk, estimator, estimates)
                    chunk, chunk_end = [], next(ends)
                    if cancelled():
                        in_flight.result()
                        raise Cancelled()
                    progress(stage="capturing", frame=decoded, total=max(expected or 0, decoded))
            estimator = loading.result()
            if in_flight is not None:
                in_flight.result()
        with torch_threads(available_cores()):  # detection is over: every core is free
            estimate_chunk(chunk, estimator, estimates)
    return Tracked(tracker, estimates, estimator, decoded)


def chunk_ends(first: int = FIRST_CHUNK_FRAMES, most: int = CHUNK_FRAMES):
    """The decoded-frame counts at which a chunk goes to the network: 2, 6, 14, 30, 46, ... (sizes double to ``most``)."""
    end, size = 0, first
    while True:
        end += size
        yield end
        size = min(2 * size, most)


def _provisional_side(track, sides: tuple, detections_in_frame: int) -> str | None:
    """The side to estimate a detection as while the footage is read: its track's side so far, if asked for.
    With one side asked for, a lone hand is likely that side (handedness.settle_tracks). A detection whose
    hand settles on another side, or that was not estimated, is estimated again at the end (settle_hands)."""
    if track.side in sides:
        return track.side
    return sides[0] if len(sides) == 1 and detections_in_frame == 1 else None


def settle_hands(tracked: Tracked, request: CaptureRequest, warn: Callable) -> tuple[list[SettledHand], int]:
    """The hands to write (backend.detect.handedness), each detection estimated as its hand's settled side.
    Returns (hands, number of detections whose MediaPipe label their hand's side overruled)."""
    settled = settle_tracks(tracked.tracker.tracks, request.sides)
    if settled.overruled_side:
        side = request.sides[0]
        warn("side_from_request", f"MediaPipe took the one hand in view for a {settled.overruled_side} hand; it is "
             f"captured as the {side} hand asked for (capture both hands to follow MediaPipe's labels)")
    chunk, overruled = [], 0
    for hand in settled.hands:
        for track in hand.tracks:
            for row, detection in zip(track.rows, track.detections):
                overruled += detection.side != hand.side
                if tracked.estimates.side(track.id, row) != hand.side:
                    chunk.append((track.id, row, hand.side, detection))
    with torch_threads(available_cores()):
        for first in range(0, len(chunk), 2 * CHUNK_FRAMES):
            estimate_chunk(chunk[first:first + 2 * CHUNK_FRAMES], tracked.estimator, tracked.estimates)
    return settled.hands, overruled
