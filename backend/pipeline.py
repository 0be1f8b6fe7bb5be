"""Footage in, per-frame MaskHand results out: decode, detect, track, estimate, settle, smooth, write.

Streaming: frames are decoded one at a time and only a chunk of them (``CHUNK_FRAMES``) is
held while its hands are estimated in one batch, so memory stays flat in the video's length;
what is kept per detection is the K hypotheses and a few small arrays. Each detection is
estimated as the side its track holds so far; once the footage is read the tracks settle into
the result's hands (backend.detect.handedness) and the few detections whose side changed are
estimated again. The preview, if asked for, is drawn in a second decoding pass once the final
poses are chosen.
"""
from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import cv2
import numpy as np
import torch

from .context.pose_cues import crop_cues
from .detect.handedness import SettledHand, settle_tracks
from .detect.hands import HandDetector
from .detect.tracker import HandTracker
from .evidence import evidence_uncertainty, residual_angles_deg
from .hand_model import ManoModelError, load_hand_model, mirror_pose
from .maskhand.model import DEFAULT_CHECKPOINT, CheckpointError, MaskHand
from .maskhand.sampling import TorchEngine, candidates, sample
from .outputs import StagedOutputs
from .protocol import CaptureRequest, ProtocolError
from .refine import refine_poses
from .result import empty_track, write_result
from .temporal import temporal_weights, weighted_poses

CHUNK_FRAMES = 16
# The first chunks are smaller (2, 4, 8 frames, then CHUNK_FRAMES), so the network starts after two
# frames instead of sixteen: on a CPU it sets the pace, and it sat idle while the first sixteen were
# detected (bench/bench_pipeline.py). Fixed sizes, not ones chosen by timing, keep results reproducible.
FIRST_CHUNK_FRAMES = 2
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}


class Cancelled(Exception):
    pass


@dataclass
class Footage:
    path: Path
    fps: float
    width: int
    height: int
    frame_count: int     # as the container reports it: 0 when unknown, and wrong for damaged files
    is_image: bool

    @property
    def focal(self) -> float:
        """The camera is unknown: HaMeR's convention, the network's crop focal (5000 px on 256) scaled to the
        frame's long side. It matches the near-orthographic camera the network fits in its crop, so the 3D
        keypoints reproject onto the detections; the price is a long lens, so hands sit far away (~10-20 m)."""
        return 5000.0 / 256.0 * max(self.width, self.height)

    def frames(self, start: int, end: int | None, mirrored: bool = False):
        """Yield (index, BGR frame) for start <= index < end (None: to the end of the file), decoding
        sequentially. ``mirrored`` footage (a selfie camera) is un-mirrored, so hands look as they are."""
        for index, frame in self._decode(start, end):
            yield index, (np.ascontiguousarray(frame[:, ::-1]) if mirrored else frame)

    def _decode(self, start: int, end: int | None):
        if self.is_image:
            if start == 0:
                yield 0, cv2.imread(str(self.path))
            return
        capture = cv2.VideoCapture(str(self.path))
        try:
            if start and not (capture.set(cv2.CAP_PROP_POS_FRAMES, start)
                              and int(capture.get(cv2.CAP_PROP_POS_FRAMES)) == start):
                capture.release()  # the container cannot seek exactly: decode from the start and skip
                capture = cv2.VideoCapture(str(self.path))
                for _ in range(start):
                    if not capture.grab():
                        return
            index = start
            while end is None or index < end:
                ok, frame = capture.read()
                if not ok:
                    return
                yield index, frame
                index += 1
        finally:
            capture.release()


def open_footage(path: str | Path) -> Footage:
    path = Path(path).expanduser()
    if not path.is_file():
        raise ProtocolError("file_not_found", f"footage not found: '{path}'", "check the path of the footage file")
    if path.suffix.lower() in IMAGE_SUFFIXES:
        image = cv2.imread(str(path))
        if image is None:
            raise ProtocolError("not_a_video", f"'{path}' could not be read as an image",
                                "use a video (mp4, mov, avi, mkv) or an image OpenCV can read")
        return Footage(path, 1.0, image.shape[1], image.shape[0], 1, True)
    capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened():
            if container_signature(path):
                raise ProtocolError("video_corrupt", f"'{path}' looks like a {container_signature(path)} file but "
                                    "cannot be decoded: it is truncated or damaged",
                                    "copy the footage again from its source, or re-encode it")
            raise ProtocolError("not_a_video", f"'{path}' is not a video OpenCV can open",
                                "use a video (mp4, mov, avi, mkv) or re-encode it, e.g. with ffmpeg to H.264 mp4")
        ok, frame = capture.read()
        count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        if not ok or frame is None:
            code = "no_frames" if count <= 0 else "video_corrupt"
            raise ProtocolError(code, f"'{path}' holds no decodable frame", "check that the file plays; re-encode it")
        fps = capture.get(cv2.CAP_PROP_FPS)
        return Footage(path, fps if fps and fps > 0 else 30.0, frame.shape[1], frame.shape[0], max(count, 0), False)
    finally:
        capture.release()


def container_signature(path: Path) -> str | None:
    """The container a file's first bytes announce (MP4/MOV, AVI, Matroska/WebM), or None."""
    with open(path, "rb") as file:
        head = file.read(12)
    if head[4:8] in (b"ftyp", b"moov", b"mdat", b"wide", b"free"):
        return "MP4/MOV"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "AVI"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "Matroska/WebM"
    return None


class PoseEstimator:
    """The MaskHand model behind a chosen engine and device, plus the output hand models."""

    def __init__(self, request: CaptureRequest, device: str, warn: Callable):
        checkpoint = Path(request.checkpoint).expanduser() if request.checkpoint else DEFAULT_CHECKPOINT
        # With ONNX Runtime the torch model only supplies its config and hand (for ranking): keep it on the CPU.
        self.torch_device = device if request.engine == "torch" else "cpu"
        try:
            self.model = MaskHand.load(checkpoint, mano_folder=request.mano_folder, device=self.torch_device)
            # A MANO folder is checked whenever one is given; results use the hand the network was
            # trained with, since its betas and camera mean nothing on another.
            mano_hands = {side: load_hand_model(side, request.mano_folder) for side in ("left", "right")} \
                if request.mano_folder else None
            use_mano = self.model.config.hand_model == "mano"
            self.hands = {side: (mano_hands[side] if use_mano else load_hand_model(side)).to(self.torch_device)
                          for side in ("left", "right")}
        except CheckpointError as error:
            raise ProtocolError("checkpoint_invalid", str(error),
                                "choose a MaskHand checkpoint folder, or leave it empty for the bundled default") from None
        except ManoModelError as error:
            raise ProtocolError("mano_invalid", str(error), "fix the MANO folder or leave it empty") from None
        if request.mano_folder and self.model.config.hand_model != "mano":
            warn("mano_unused", f"checkpoint '{self.model.config.name}' was trained with the built-in hand; "
                 "results use it, and the MANO folder is not used")
        self.device = device
        if request.engine == "onnx":
            from .maskhand.onnx_engine import OnnxEngine

            try:
                self.engine = OnnxEngine(checkpoint, device=device, threads=network_threads())
            except (FileNotFoundError, ValueError) as error:
                raise ProtocolError("engine_unavailable", str(error), "use the torch engine") from None
            self.device = self.engine.device
        else:
            self.engine = TorchEngine(self.model)
        self.name = self.model.config.name
        self.generator = torch.Generator(device=self.torch_device).manual_seed(0)

    def estimate(self, cues: np.ndarray, request: CaptureRequest):
        cues_tensor = torch.as_tensor(cues, device=self.torch_device)
        sampling = self.model.config.sampling
        with torch.no_grad():
            return sample(self.engine, cues_tensor, iterations=request.iterations, samples=request.samples,
                          temperature=sampling.temperature if request.temperature is None else request.temperature,
                          generator=self.generator, hand=self.model.hand,
                          focal_crop=self.model.config.focal_crop,
                          reprojection_rank_weight=sampling.reprojection_rank_weight,
                          greedy_first=sampling.greedy_first,
                          uncertainty_directions=sampling.uncertainty_directions,
                          uncertainty_calibration=sampling.uncertainty_calibration)


@contextmanager
def torch_threads(threads: int):
    """torch's CPU threads while inside (ONNX Runtime fixes its own when its sessions are made:
    ``network_threads``). A thread takes torch's count at its first parallel op and keeps it, so
    this is entered before the estimation worker first runs torch."""
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def available_cores() -> int:
    # sched_getaffinity honours CPU limits (containers, taskset) but exists on Linux only.
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def network_threads() -> int:
    """CPU threads for each of the two networks at work at once: all cores but one. Detection (ONNX Runtime,
    the main thread) and MaskHand (the worker) run side by side; sharing every core between both made each
    wait on the other (bench/bench_pipeline.py; on 2 cores, detection with 2 threads: 30 fps against 37 with
    one, and with ONNX Runtime's spinning off no better). Both are busy nearly all the time: on the bench's
    clip detection takes 2.8 s and MaskHand 3.2 s of a 4.1 s job."""
    return max(1, available_cores() - 1)


def chunk_ends(first: int = FIRST_CHUNK_FRAMES, most: int = CHUNK_FRAMES):
    """The decoded-frame counts at which a chunk goes to the network: 2, 6, 14, 30, 46, ... (sizes double to ``most``)."""
    end, size = 0, first
    while True:
        end += size
        yield end
        size = min(2 * size, most)


def fit_translation(keypoints: np.ndarray, detected: np.ndarray, confidence: np.ndarray,
                    footage: Footage) -> np.ndarray:
    """Translations (M, 3) that put model-frame keypoints (M, 21, 3) onto the detected 2D keypoints (M, 21, 2).

    The network's crop camera serves only to rank its hypotheses; the output camera is fitted to the
    detections, which are what the animator sees. With the long focal of ``Footage.focal`` the camera is near-orthographic, so a confidence-
    weighted least-squares fit of scale and offset (closed form) gives the translation: depth = f / scale.
    """
    weight = np.maximum(confidence, 1e-6)[..., None]                                     # (M, 21, 1)
    total = weight.sum(1, keepdims=True)
    model_mean = (weight * keypoints[..., :2]).sum(1, keepdims=True) / total
    detected_mean = (weight * detected).sum(1, keepdims=True) / total
    centred_model, centred_detected = keypoints[..., :2] - model_mean, detected - detected_mean
    scale = (weight * centred_model * centred_detected).sum((1, 2)) / (weight * centred_model ** 2).sum((1, 2))
    scale = np.maximum(scale, 1e-6)                                                      # (M,)
    centre = np.array([footage.width / 2, footage.height / 2])
    mean_depth = (weight[..., 0] * keypoints[..., 2]).sum(1) / total[:, 0, 0]
    depth = footage.focal / scale
    offset = (detected_mean[:, 0] - centre) / scale[:, None] - model_mean[:, 0]
    return np.concatenate([offset, (depth - mean_depth)[:, None]], 1).astype(np.float32)


def resolve_device(requested: str, warn: Callable) -> str:
    if requested == "cpu":
        return "cpu"
    if torch.cuda.is_available():
        return "cuda"
    if requested == "cuda":
        warn("cuda_unavailable", "CUDA was asked for but no CUDA device is available: running on the CPU")
    return "cpu"


def run_capture(request: CaptureRequest, progress: Callable = lambda **_: None, warn: Callable = lambda *_: None,
                cancelled: Callable[[], bool] = lambda: False) -> dict:
    """Run one capture job; returns a summary. Raises ProtocolError (bad input) or Cancelled.

    Nothing is left at the output paths unless the whole job succeeds."""
    started = time.monotonic()
    footage = open_footage(request.video)
    start = request.frame_start
    if footage.frame_count and start >= footage.frame_count:
        raise ProtocolError("bad_frame_range", f"frame_start {start} is beyond the footage's "
                            f"{footage.frame_count} frames", "choose a frame range inside the footage")
    # The container's frame count can be missing or wrong: decode to the end (or frame_end), trust what decodes.
    expected = None
    if footage.frame_count:
        expected = min(request.frame_end or footage.frame_count, footage.frame_count) - start
    outputs = StagedOutputs({"output": request.output, "preview": request.preview}, inputs=(request.video,))
    device = resolve_device(request.device, warn)
    progress(stage="loading", frame=0, total=expected or 0)
    sides = request.sides
    estimates = _Estimates()
    tracker = HandTracker()
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
                    in_flight = worker.submit(_estimate_chunk, chunk, estimator, estimates, request)
                    chunk, chunk_end = [], next(ends)
                    if cancelled():
                        in_flight.result()
                        raise Cancelled()
                    progress(stage="capturing", frame=decoded, total=max(expected or 0, decoded))
            estimator = loading.result()
            if in_flight is not None:
                in_flight.result()
        with torch_threads(available_cores()):  # detection is over: every core is free
            _estimate_chunk(chunk, estimator, estimates, request)
    if decoded == 0:
        raise ProtocolError("video_corrupt" if footage.frame_count else "no_frames",
                            f"no frame of '{footage.path.name}' could be decoded from frame {start} on",
                            "check that the file plays, or choose another frame range")
    if expected and decoded < expected - max(2, expected // 100):
        warn("video_truncated", f"decoded {decoded} of the {expected} frames the footage reports: "
             "the file is truncated or damaged; the frames that decoded were captured")
    if cancelled():
        raise Cancelled()
    hands, relabelled = _settle_hands(tracker, estimates, estimator, request, warn)
    progress(stage="smoothing", frame=decoded, total=decoded)
    frames = np.arange(start, start + decoded)
    results = {hand.name: _hand_result(hand, estimates, frames, estimator, hand.side,
                                       request.temporal and request.samples > 1, request.refine, footage)
               for hand in hands}
    found = {name: int(arrays["valid"].sum()) for name, arrays in results.items()}
    if not any(found.values()):
        warn("no_hands", f"no hands were found in '{footage.path.name}' (frames {start}-{start + decoded - 1})")
    with outputs:
        write_result(outputs.path("output"), results, footage.fps, (footage.width, footage.height), footage.focal,
                     estimator.name, f"maskhand-checkpoint/{estimator.model.config.name}")
        if request.preview:
            progress(stage="preview", frame=decoded, total=decoded)
            from .preview import write_preview

            write_preview(outputs.path("preview"), footage, start, start + decoded, results, estimator.hands, cancelled,
                          request.mirrored)
            if cancelled():
                raise Cancelled()
    return {"result": str(Path(request.output).resolve()), "frames": decoded, "expected_frames": expected,
            "hands": found, "relabelled_frames": relabelled, "device": estimator.device, "engine": request.engine,
            "seconds": round(time.monotonic() - started, 3)}


class _Estimates:
    """Every estimated detection's candidates, by (track id, frame row), with the side it was estimated as.

    Candidates per detection: the sampler's answer, then its K hypotheses (backend.maskhand.sampling.candidates),
    in that side's own convention. Kept until the hands' sides settle and the path through them is chosen."""

    def __init__(self):
        self.entries: dict = {}

    def put(self, track: int, row: int, side: str, samples, scores, betas, uncertainty) -> None:
        self.entries[track, row] = (side, samples, scores, betas, uncertainty)

    def side(self, track: int, row: int) -> str | None:
        entry = self.entries.get((track, row))
        return entry[0] if entry else None


def _provisional_side(track, sides: tuple, detections_in_frame: int) -> str | None:
    """The side to estimate a detection as while the footage is read: its track's side so far, if asked for.
    With one side asked for, a lone hand is likely that side (handedness.settle_tracks). A detection whose
    hand settles on another side, or that was not estimated, is estimated again at the end (_settle_hands)."""
    if track.side in sides:
        return track.side
    return sides[0] if len(sides) == 1 and detections_in_frame == 1 else None


def _settle_hands(tracker: HandTracker, estimates: _Estimates, estimator: PoseEstimator,
                  request: CaptureRequest, warn: Callable) -> tuple[list[SettledHand], int]:
    """The hands to write (backend.detect.handedness), each detection estimated as its hand's settled side.
    Returns (hands, number of detections whose MediaPipe label their hand's side overruled)."""
    settled = settle_tracks(tracker.tracks, request.sides)
    if settled.overruled_side:
        side = request.sides[0]
        warn("side_from_request", f"MediaPipe took the one hand in view for a {settled.overruled_side} hand; it is "
             f"captured as the {side} hand asked for (capture both hands to follow MediaPipe's labels)")
    chunk, overruled = [], 0
    for hand in settled.hands:
        for track in hand.tracks:
            for row, detection in zip(track.rows, track.detections):
                overruled += detection.side != hand.side
                if estimates.side(track.id, row) != hand.side:
                    chunk.append((track.id, row, hand.side, detection))
    with torch_threads(available_cores()):
        for first in range(0, len(chunk), 2 * CHUNK_FRAMES):
            _estimate_chunk(chunk[first:first + 2 * CHUNK_FRAMES], estimator, estimates, request)
    return settled.hands, overruled


def _hand_result(hand: SettledHand, estimates: _Estimates, frames: np.ndarray, estimator: PoseEstimator, side: str,
                 temporal: bool, refine: bool, footage: Footage) -> dict:
    """One hand's result arrays over ``frames`` (backend.result), its pose chosen per frame or along the motion,
    then (``refine``) fitted to MediaPipe's 3D landmarks (backend.refine). Work and memory follow the hand's own
    frames (temporal mode: the span from its first frame to its last)."""
    arrays = empty_track(frames)
    found = sorted((row, track.id, detection) for track in hand.tracks
                   for row, detection in zip(track.rows, track.detections))                   # frame order
    if not found:
        return arrays
    rows = np.array([row for row, _, _ in found])                                              # (M,)
    entries = [estimates.entries[track, row] for row, track, _ in found]
    samples = np.stack([entry[1] for entry in entries])                                        # (M, C, 16, 3)
    scores = np.stack([entry[2] for entry in entries])                                         # (M, C)
    betas = np.stack([entry[3] for entry in entries])                                          # (M, C, 10)
    if temporal:
        span = rows - rows[0]
        dense_samples = np.zeros((span[-1] + 1,) + samples.shape[1:], np.float32)
        dense_scores = np.zeros((span[-1] + 1,) + scores.shape[1:], np.float32)
        dense_valid = np.zeros(span[-1] + 1, bool)
        dense_samples[span], dense_scores[span], dense_valid[span] = samples, scores, True
        weights = temporal_weights(dense_samples, dense_scores, dense_valid)[span]            # (M, C)
        pose = weighted_poses(samples, weights).astype(np.float32)
        chosen_betas = np.einsum("mc,mcb->mb", weights, betas).astype(np.float32)
    else:  # the sampler's own answer (candidate 0)
        pose, chosen_betas = samples[:, 0], betas[:, 0]
    model_uncertainty = np.stack([entry[4] for entry in entries])                             # (M, 16) degrees
    detected = np.stack([detection.keypoints for _, _, detection in found]).astype(np.float32)  # (M, 21, 2)
    model = estimator.hands[side]
    if refine:
        pose, model_uncertainty = _refined(pose, chosen_betas, model_uncertainty,
                                           [detection for _, _, detection in found], model,
                                           estimator.model.config.sampling.typical_error)
    score = np.array([detection.score for _, _, detection in found], np.float32)              # (M,)
    confidence = np.repeat(score[:, None], 21, 1)
    with torch.no_grad():
        device = model.v_template.device
        keypoints = model(torch.as_tensor(pose, device=device), torch.as_tensor(chosen_betas, device=device),
                          with_vertices=False).keypoints.cpu().numpy()                         # (M, 21, 3)
    cam_t = fit_translation(keypoints, detected, confidence, footage)
    joints3d = keypoints + cam_t[:, None]
    residual = residual_angles_deg(joints3d, detected, footage.focal, footage.width, footage.height)
    uncertainty = evidence_uncertainty(model_uncertainty, residual)
    for name, values in (("valid", True), ("global_orient", pose[:, 0]), ("hand_pose", pose[:, 1:]),
                         ("betas", chosen_betas), ("cam_t", cam_t), ("joints3d", joints3d), ("keypoints2d", detected),
                         ("keypoint_conf", confidence), ("uncertainty", uncertainty), ("score", score)):
        arrays[name][rows] = values
    return arrays


def _refined(pose: np.ndarray, betas: np.ndarray, uncertainty: np.ndarray, detections: list, model,
             typical_error: list | None) -> tuple[np.ndarray, np.ndarray]:
    """``pose`` (M, 16, 3) fitted to MediaPipe's landmarks (backend.refine) within MaskHand's uncertainty
    (M, 16) degrees, or the checkpoint's ``typical_error`` where none was measured (K=1; without one such
    poses stay as they are), and the refined poses' uncertainty (backend.refine's posterior). Detections without
    depth and world landmarks (not MediaPipe's) stay as they are, with their uncertainty."""
    unmeasured = ~uncertainty.any(1)
    prior = uncertainty
    if typical_error is not None:
        prior = np.where(unmeasured[:, None], np.asarray(typical_error, np.float32), uncertainty)
    rows = [m for m, detection in enumerate(detections) if detection.depth is not None
            and detection.world is not None and (typical_error is not None or not unmeasured[m])]
    if not rows:
        return pose, uncertainty
    refined = refine_poses(model, pose[rows], betas[rows], prior[rows], np.stack([detections[m].keypoints for m in rows]),
                           np.stack([detections[m].depth for m in rows]), np.stack([detections[m].world for m in rows]))
    pose, uncertainty = pose.copy(), uncertainty.copy()
    pose[rows] = refined.pose
    # Where MaskHand measured nothing (K=1) the posterior would only restate the typical error: still none.
    uncertainty[rows] = np.where(unmeasured[rows, None], uncertainty[rows], refined.uncertainty)
    return pose, uncertainty


def _estimate_chunk(chunk: list, estimator: PoseEstimator, estimates: _Estimates, request: CaptureRequest) -> None:
    """Estimate [(track id, row, side, detection)] in one batch, each as its given side."""
    if not chunk:
        return
    is_right = np.array([side == "right" for _, _, side, _ in chunk])
    detections = [detection for _, _, _, detection in chunk]
    keypoints = np.stack([detection.keypoints for detection in detections])                # (M, 21, 2)
    confidence = np.repeat(np.array([detection.score for detection in detections], np.float32)[:, None], 21, 1)
    readings = {}  # MediaPipe's 3D readings, for checkpoints that read them (a 2D one reads u, v and confidence)
    if all(detection.depth is not None and detection.world is not None for detection in detections):
        readings = {"depth": np.stack([d.depth for d in detections]), "world": np.stack([d.world for d in detections])}
    cues, _ = crop_cues(keypoints, confidence, is_right, **readings)
    result = estimator.estimate(cues, request)
    samples, scores, betas = (tensor.cpu().numpy() for tensor in candidates(result))   # right-hand frame
    samples = np.where(is_right[:, None, None, None], samples, mirror_pose(samples))
    uncertainty = result.uncertainty.cpu().numpy()
    for m, (track, row, side, _) in enumerate(chunk):
        estimates.put(track, row, side, samples[m], scores[m], betas[m], uncertainty[m])
