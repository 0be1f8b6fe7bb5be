"""The project environment as tools/bootstrap.py makes it."""
import subprocess
import sys
from importlib import metadata

from tests.conftest import REPO


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

    assert numpy.__version__ == "1.26.4"
    assert torch.__version__.split("+")[0] == "2.13.0"
    assert metadata.version("mediapipe") == "0.10.21"
    assert metadata.version("bpy") == "5.0.1"
    # mediapipe is installed without the packages it declares but the hand solution does not use.
    assert installed("jax") == [] and installed("sounddevice") == []


def test_only_mediapipes_deliberately_omitted_dependencies_are_missing():
    completed = subprocess.run([sys.executable, "-m", "pip", "check"], capture_output=True, text=True, timeout=120)
    problems = {line for line in completed.stdout.splitlines() if line.strip()}
    omitted = {f"mediapipe 0.10.21 requires {name}, which is not installed."
               for name in ("jax", "jaxlib", "sentencepiece", "sounddevice")}
    assert problems == omitted


def test_mediapipe_hands_models_ship_inside_the_wheel():
    import mediapipe as mp

    with mp.solutions.hands.Hands(static_image_mode=True, max_num_hands=2) as hands:
        assert hands is not None


def test_bootstrap_is_idempotent():
    completed = subprocess.run([sys.executable, str(REPO / "tools/bootstrap.py"), "--venv", sys.prefix],
                               capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip().endswith("is up to date")
