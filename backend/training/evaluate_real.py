"""Real footage with 3D ground truth: the capture as users run it, beside what a user gets for free.

The data: ../shared/data/realworld_dev, 300 real frames of one person's left hand with its 21
keypoints in 3D (frames 0-299 of the real-world test set of Ge et al., "3D Hand Shape and Pose
Estimation from a Single RGB Image", CVPR 2019). Licence: Snap Inc., non-commercial research
and education only: the project measures on it, fits nothing that ships on it, and never copies
it. As its README prescribes, each 256x256 crop is padded by 128 px of grey and the frames go
into a lossless video, which the capture reads as any footage.

Methods, each over the frames it found:
* MaskHand through the whole pipeline, with the capture's defaults (the bundled checkpoint's K samples
  and T iterations, temporal mode, refined: backend.capture.refine), with the speed setting (K=1), and
  with the defaults unrefined;
* MediaPipe 0.10.21's own world landmarks (its networks and tracking, video mode; read by our
  detector), what MediaPipe-driven add-ons key;
* the built-in hand fitted to those landmarks (``backend.training.mediapipe_fit``).

Figures: PA-MPJPE (mm), flexion error (degrees; ``backend.metrics.flexion_error_deg``) overall
and per finger, and for the capture the uncertainty's Spearman rho against the error, per frame
(its mean uncertainty against its PA-MPJPE) and per finger joint (the joint's uncertainty
against its bending-angle error; position errors pile up along a finger, angles do not).
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import cv2
import numpy as np
from scipy.stats import spearmanr

from ..hand_model import load_hand_model
from ..hand_model.layout import MANO_TO_OPENPOSE
from .mediapipe_fit import fit_hand_to_landmarks
from ..maskhand.model import DEFAULT_CHECKPOINT, read_config
from ..metrics import FINGER_CHAINS, FINGERS, flexion_error_deg, pa_error_mm

DEFAULT_CHECKPOINT_NAME = DEFAULT_CHECKPOINT.name  # the capture runs with the bundled checkpoint
PAD = 128  # grey pixels around each crop: MediaPipe's palm detector needs margin around the hand
SIDE = "left"
# The MANO joint that bends at each of the 15 finger joints, in flexion_error_deg's order.
FINGER_JOINTS = tuple(MANO_TO_OPENPOSE[k] for chain in FINGER_CHAINS for k in chain[1:4])
CITATION = ('Ge et al., "3D Hand Shape and Pose Estimation from a Single RGB Image", CVPR 2019 '
            "(hand-graph-cnn real-world test set, frames 0-299)")
LICENCE = "Snap Inc., non-commercial research and education only: measured on, never fitted to or copied"


def load_truth(folder: Path) -> tuple[list, np.ndarray]:
    """(frame image paths, keypoints (N, 21, 3) metres, camera frame, OpenPose order)."""
    annotations = np.load(folder / "annotations.npz", allow_pickle=False)
    return [folder / str(name) for name in annotations["image"]], annotations["keypoints3d"]


def write_footage(images: list, path: Path) -> Path:
    """The padded crops as a lossless (FFV1) video, 30 fps."""
    frames = []
    for image in images:
        crop = cv2.imread(str(image))
        if crop is None:
            raise FileNotFoundError(f"real frame '{image}' cannot be read")
        frames.append(cv2.copyMakeBorder(crop, PAD, PAD, PAD, PAD, cv2.BORDER_CONSTANT, value=(128,) * 3))
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"FFV1"), 30.0, (width, height))
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV cannot write FFV1 (lossless) video to '{path}'")
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


def mediapipe_world_landmarks(video: Path) -> tuple[np.ndarray, np.ndarray]:
    """MediaPipe's world landmarks (N, 21, 3) per frame (video mode, one hand), and where it found one (N,).
    Read by our detector, which runs MediaPipe 0.10.21's networks and tracking (tests/test_hand_detector.py:
    world landmarks within 2 mm of mediapipe's own) with mediapipe's default detection confidence (0.5) and
    without the recall tiles; what it adds on top (the plausibility check, one fit per hand, holding only
    the hands it gives out) finds the hand in all 300 frames here, as mediapipe's own graph did."""
    from ..detect.hands import HandDetector

    capture, landmarks, found = cv2.VideoCapture(str(video)), [], []
    with HandDetector(max_hands=1, video=True, min_confidence=0.5, extra_passes=False) as detector:
        while (frame := capture.read()[1]) is not None:
            hands = detector.detect(frame)
            found.append(bool(hands))
            landmarks.append(hands[0].world if hands else np.zeros((21, 3)))
    capture.release()
    return np.stack(landmarks), np.array(found)


def capture(video: Path, samples: int | None, output: Path, refine: bool = True
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The whole pipeline on ``video`` with the defaults but ``samples`` (None: the checkpoint's) and ``refine``:
    the keypoints (N, 21, 3), found (N,) and uncertainty (N, 16) of the hand the capture found in most frames."""
    from ..capture.pipeline import run_capture
    from ..capture.protocol import CaptureRequest
    from ..capture.result import read_result

    run_capture(CaptureRequest(job="real", video=str(video), output=str(output), samples=samples, refine=refine))
    result = read_result(output)
    hands = [result[name] for name in result["header"]["tracks"].tolist()]
    if not hands:
        raise ValueError(f"the capture of '{video}' wrote no hand track")
    hand = max(hands, key=lambda h: h["valid"].sum())
    return hand["joints3d"].astype(np.float64), hand["valid"], hand["uncertainty"].astype(np.float64)


def figures(keypoints: np.ndarray, found: np.ndarray, truth: np.ndarray, uncertainty: np.ndarray | None = None) -> dict:
    """A method's figures over the frames it found. The per-frame rho uses the finger joints' uncertainty:
    Procrustes alignment takes the global orientation's error out of PA-MPJPE."""
    if not found.any():
        return {"frames_found": 0, "frames": len(found)}
    pa = pa_error_mm(keypoints[found], truth[found]).mean(1)                                  # (M,)
    flexion = flexion_error_deg(keypoints[found], truth[found])                               # (M, 15)
    report = {"frames_found": int(found.sum()), "frames": len(found), "pa_mpjpe_mm": float(pa.mean()),
              "flexion_error_deg": float(flexion.mean()),
              "flexion_error_per_finger_deg": {finger: float(flexion[:, 3 * f:3 * f + 3].mean())
                                               for f, finger in enumerate(FINGERS)}}
    if uncertainty is not None:
        per_joint = uncertainty[found][:, list(FINGER_JOINTS)]                               # (M, 15)
        report["rho_frame"] = _spearman(uncertainty[found][:, 1:].mean(1), pa)
        report["rho_finger_joint"] = _spearman(per_joint.ravel(), flexion.ravel())
    return report


def _spearman(a: np.ndarray, b: np.ndarray) -> float | None:
    """Spearman rho, or None where it is undefined (fewer than 2 values, or either side constant)."""
    if len(a) < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return None
    return float(spearmanr(a, b)[0])


def evaluate_real(folder: Path) -> dict:
    """Every method's figures on the real frames in ``folder`` (see the module's docstring)."""
    images, truth = load_truth(folder)
    hand = load_hand_model(SIDE)
    with tempfile.TemporaryDirectory() as work:
        video = write_footage(images, Path(work) / "real.avi")
        methods = {}
        for name, samples, refine in (("maskhand_defaults", None, True), ("maskhand_k1", 1, True),
                                      ("maskhand_unrefined", None, False)):
            keypoints, found, uncertainty = capture(video, samples, Path(work) / f"{name}.npz", refine)
            # A lone hypothesis measures no uncertainty (only the widening of hands no pose fits): no rho for K=1.
            methods[name] = figures(keypoints, found, truth, None if samples == 1 else uncertainty)
        landmarks, found = mediapipe_world_landmarks(video)
    methods["mediapipe_world"] = figures(landmarks, found, truth)
    fitted, _ = fit_hand_to_landmarks(hand, landmarks[found])
    fitted_all = np.zeros_like(landmarks)
    fitted_all[found] = fitted
    methods["mediapipe_fit"] = figures(fitted_all, found, truth)
    sampling = read_config(DEFAULT_CHECKPOINT).sampling
    return {"data": CITATION, "licence": LICENCE, "frames": len(truth), "checkpoint": DEFAULT_CHECKPOINT_NAME,
            "sampling": {"samples": sampling.samples, "iterations": sampling.iterations},
            "methods": methods}


def method_names(sampling: dict) -> dict:
    """Each method's row label, with the checkpoint's sampling the capture ran (``evaluate_real``'s report)."""
    samples, iterations = sampling["samples"], sampling["iterations"]
    return {"maskhand_defaults": f"MaskHand, the capture's defaults (K={samples}, T={iterations}, temporal, refined)",
            "maskhand_k1": f"MaskHand, speed setting (K=1, T={iterations}, refined)",
            "maskhand_unrefined": "MaskHand, the defaults without the refinement (--no-refine)",
            "mediapipe_world": "MediaPipe 0.10.21 world landmarks (video mode)",
            "mediapipe_fit": "built-in hand fitted to MediaPipe's world landmarks"}


def to_markdown(report: dict) -> str:
    """The real-footage section of docs/evaluation.md."""
    def rho(value):
        return "-" if value is None else f"{value:.2f}"

    lines = ["## Real footage (`bench/bench_real.py`)", "",
             f"The capture with checkpoint `{report['checkpoint']}`, on "
             f"{report['frames']} real frames of one person's left hand with 3D ground truth: {report['data']}. "
             f"Licence: {report['licence']}. Crops padded by {PAD} px of grey, in a lossless video; each method "
             "over the frames it found. Flexion error: mean absolute error of the bending angle at the 15 finger "
             "joints. Rho: Spearman, uncertainty against error, per frame (mean uncertainty of the finger joints, "
             "PA-MPJPE) and per finger joint (its uncertainty, its bending-angle error); none for K=1, which "
             "measures no uncertainty. Settings are chosen on our own data, never on these frames.", "",
             "| method | frames | PA-MPJPE mm | flexion deg | " + " | ".join(FINGERS) + " | rho frame | rho joint |",
             "|---|---|---|---|" + "---|" * len(FINGERS) + "---|---|"]
    for key, name in method_names(report["sampling"]).items():
        m = report["methods"][key]
        per_finger = " | ".join(f"{m['flexion_error_per_finger_deg'][finger]:.1f}" for finger in FINGERS)
        lines.append(f"| {name} | {m['frames_found']} | {m['pa_mpjpe_mm']:.1f} | {m['flexion_error_deg']:.1f} | "
                     f"{per_finger} | {rho(m.get('rho_frame'))} | {rho(m.get('rho_finger_joint'))} |")
    return "\n".join(lines) + "\n"
