"""MediaPipe's palm detector and hand landmarker (full), as ONNX graphs run by ONNX Runtime, batched.

The graphs in ``models/`` are converted from the mediapipe 0.10.21 wheel's .tflite files by
``tools/convert_mediapipe_models.py`` (Apache-2.0; ``models/LICENSE``). Both take NHWC RGB in
[0, 1] with a free batch axis. CUDA's execution provider is used when asked for and present.
"""
from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np
import onnxruntime

from .palm import INPUT_SIZE as PALM_SIZE

MODELS = Path(__file__).resolve().parent / "models"
PALM_GRAPH = "palm_detection_full.onnx"
LANDMARK_GRAPH = "hand_landmark_full.onnx"
LANDMARK_SIZE = 224


class LandmarkOutputs(NamedTuple):
    """The landmark network's answer for B crops."""

    points: np.ndarray      # (B, 21, 3) x, y in the crop's tensor pixels, z relative depth on the x scale
    presence: np.ndarray    # (B,) probability that the crop holds a hand
    handedness: np.ndarray  # (B,) probability of MediaPipe's "Left" (a mirrored image's left: the subject's right)
    world: np.ndarray       # (B, 21, 3) metres, about the hand's centre, axes of the crop


class HandNetworks:
    def __init__(self, device: str = "cpu", threads: int = 0):
        providers = ["CPUExecutionProvider"]
        if device == "cuda" and "CUDAExecutionProvider" in onnxruntime.get_available_providers():
            providers.insert(0, "CUDAExecutionProvider")
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        for name in (PALM_GRAPH, LANDMARK_GRAPH):
            if not (MODELS / name).is_file():
                raise FileNotFoundError(f"the hand detector's graph '{MODELS / name}' is missing: reinstall the "
                                        "backend, or run tools/convert_mediapipe_models.py")
        self._palm = onnxruntime.InferenceSession(str(MODELS / PALM_GRAPH), options, providers=providers)
        self._landmark = onnxruntime.InferenceSession(str(MODELS / LANDMARK_GRAPH), options, providers=providers)

    @property
    def device(self) -> str:
        return "cuda" if "CUDAExecutionProvider" in self._palm.get_providers() else "cpu"

    def palms(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(B, 192, 192, 3) float32 -> regressors (B, 2016, 18) and score logits (B, 2016, 1)."""
        assert images.shape[1:] == (PALM_SIZE, PALM_SIZE, 3), images.shape
        regressors, logits = self._palm.run(["Identity", "Identity_1"], {"input_1": images})
        return regressors, logits

    def landmarks(self, crops: np.ndarray) -> LandmarkOutputs:
        """(B, 224, 224, 3) float32 -> the landmark network's outputs."""
        assert crops.shape[1:] == (LANDMARK_SIZE, LANDMARK_SIZE, 3), crops.shape
        points, presence, handedness, world = self._landmark.run(
            ["Identity", "Identity_1", "Identity_2", "Identity_3"], {"input_1": crops})
        return LandmarkOutputs(points.reshape(-1, 21, 3), presence[:, 0], handedness[:, 0], world.reshape(-1, 21, 3))
