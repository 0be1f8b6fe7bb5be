"""The project environment as tools/bootstrap.py makes it (Python 3.11, or 3.13 without mediapipe)."""
import subprocess
import sys
from importlib import metadata

import pytest

from tests.conftest import REPO

PYTHON_311 = sys.version_info[:2] == (3, 11)


def installed(prefix):
    return sorted({dist.metadata["Name"].lower() for dist in metadata.distributions()
                   if dist.metadata["Name"].lower().startswith(prefix)})


def test_exactly_one_opencv_build():
    assert installed("opencv") == ["opencv-contrib-python"]
    import cv2

    assert cv2.__version__.startswith("4.10")


def test_pinned_stack_versions():
    import numpy
    import torch

    assert numpy.__version__ == ("1.26.4" if PYTHON_311 else "2.2.6")
    assert torch.__version__.split("+")[0] == "2.13.0"
    # Blender as a module (requirements/blender.txt), and on 3.11 the detector's test oracle.
    assert metadata.version("bpy") == ("5.0.1" if PYTHON_311 else "5.3.0")
    if PYTHON_311:
        assert metadata.version("mediapipe") == "0.10.21"
    # mediapipe is installed without the packages it declares but the hand solution does not use.
    assert installed("jax") == [] and installed("sounddevice") == []


def test_only_mediapipes_deliberately_omitted_dependencies_are_missing():
    completed = subprocess.run([sys.executable, "-m", "pip", "check"], capture_output=True, text=True, timeout=120)
    problems = {line for line in completed.stdout.splitlines() if line.strip()} if completed.returncode else set()
    omitted = {f"mediapipe 0.10.21 requires {name}, which is not installed."
               for name in ("jax", "jaxlib", "sentencepiece", "sounddevice")} if PYTHON_311 else set()
    assert problems == omitted


def test_the_backend_needs_no_mediapipe():
    """The detector's networks ship as ONNX graphs; nothing the backend runs imports mediapipe (only the
    legacy wrapper kept as the parity tests' oracle does)."""
    code = ("import sys, builtins; real = builtins.__import__\n"
            "def guard(name, *a, **k):\n"
            "    if name.split('.')[0] == 'mediapipe': raise ImportError('mediapipe imported')\n"
            "    return real(name, *a, **k)\n"
            "builtins.__import__ = guard\n"
            "import backend.capture.pipeline, backend.capture.server, backend.training.evaluate_real\n"
            "from backend.detect.hands import HandDetector\n"
            "import numpy as np\n"
            "print(HandDetector(video=False).detect(np.zeros((240, 320, 3), np.uint8)))")
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert completed.returncode == 0 and completed.stdout.strip() == "[]", completed.stderr


@pytest.mark.skipif(not PYTHON_311, reason="mediapipe 0.10.21 has no wheel for this Python")
def test_mediapipe_hands_models_ship_inside_the_wheel():
    import mediapipe as mp

    with mp.solutions.hands.Hands(static_image_mode=True, max_num_hands=2) as hands:
        assert hands is not None


def test_bootstrap_is_idempotent():
    completed = subprocess.run([sys.executable, str(REPO / "tools/bootstrap.py"), "--venv", sys.prefix],
                               capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip().endswith("is up to date")
