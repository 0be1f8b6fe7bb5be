"""The estimation stage: the MaskHand model and its sampling config, the threads it runs on, and the
detections it has estimated (``Estimates``), one chunk of them at a time."""
from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from ..context.pose_cues import crop_cues
from ..hand_model import ManoModelError, load_hand_model, mirror_pose
from ..maskhand.config import DIFFERING_HYPOTHESES
from ..maskhand.model import DEFAULT_CHECKPOINT, CheckpointError, MaskHand
from ..maskhand.sampling import TorchEngine, candidates, sample
from .protocol import CaptureRequest, ProtocolError


class PoseEstimator:
    """The MaskHand model behind a chosen engine and device, the job's sampling config (the checkpoint's,
    overridden by what the request asks for) and the output hand models."""

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
            from ..maskhand.onnx_engine import OnnxEngine

            try:
                self.engine = OnnxEngine(checkpoint, device=device, threads=network_threads())
            except (FileNotFoundError, ValueError) as error:
                raise ProtocolError("engine_unavailable", str(error), "use the torch engine") from None
            self.device = self.engine.device
        else:
            self.engine = TorchEngine(self.model)
        self.name = self.model.config.name
        self.sampling = self.model.config.sampling.overridden(request.samples, request.iterations, request.temperature)
        if self.sampling.samples > 1 and not self.sampling.hypotheses_differ:
            warn("hypotheses_coincide", f"the {self.sampling.samples} hypotheses coincide at fewer than "
                 f"{DIFFERING_HYPOTHESES['min_iterations']} iterations (T={self.sampling.iterations}): they measure "
                 "no spread between them and give the temporal choice nothing to choose from")
        self.generator = torch.Generator(device=self.torch_device).manual_seed(0)

    def estimate(self, cues: np.ndarray):
        """Cues (M, 21, C) -> the sampler's result for M hands, with this job's sampling config."""
        cues_tensor = torch.as_tensor(cues, device=self.torch_device)
        with torch.no_grad():
            return sample(self.engine, cues_tensor, self.sampling, generator=self.generator, hand=self.model.hand,
                          focal_crop=self.model.config.focal_crop)


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


def resolve_device(requested: str, warn: Callable) -> str:
    if requested == "cpu":
        return "cpu"
    if torch.cuda.is_available():
        return "cuda"
    if requested == "cuda":
        warn("cuda_unavailable", "CUDA was asked for but no CUDA device is available: running on the CPU")
    return "cpu"


class Estimates:
    """Every estimated detection's candidates, by (track id, frame row), with the side it was estimated as.

    Candidates per detection: the sampler's answer, then its K hypotheses (backend.maskhand.sampling.candidates),
    in that side's own convention. Kept until the hands' sides settle and the path through them is chosen."""

    def __init__(self):
        self.entries: dict = {}

    def put(self, track: int, row: int, side: str, samples, scores, betas, uncertainty) -> None:
        """samples (C, 16, 3) axis-angle, scores (C,), betas (C, 10), uncertainty (16,) degrees."""
        self.entries[track, row] = (side, samples, scores, betas, uncertainty)

    def side(self, track: int, row: int) -> str | None:
        entry = self.entries.get((track, row))
        return entry[0] if entry else None


def estimate_chunk(chunk: list, estimator: PoseEstimator, estimates: Estimates) -> None:
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
    result = estimator.estimate(cues)
    samples, scores, betas = (tensor.cpu().numpy() for tensor in candidates(result))   # right-hand frame
    samples = np.where(is_right[:, None, None, None], samples, mirror_pose(samples))
    uncertainty = result.uncertainty.cpu().numpy()
    for m, (track, row, side, _) in enumerate(chunk):
        estimates.put(track, row, side, samples[m], scores[m], betas[m], uncertainty[m])
