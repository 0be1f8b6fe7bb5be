"""Measure how far MediaPipe's two 3D readings of a hand lie from the truth, on our own renders.

    .venv/bin/python tools/measure_landmark_noise.py [--frames 36]

Renders four clips of the built-in hand (tools/sample_clip.py: other gesture orders than the
round-trip bench's, every lighting, both backgrounds), runs MediaPipe on them as the capture does
(video mode), and prints, per camera axis, the standard deviation of each reading's landmarks
about the rendered truth after a similarity alignment, in units of the hand's size. These are
``backend.capture.refine``'s ``IMAGE_SIGMA`` and ``WORLD_SIGMA``; the figures go to
bench/results/landmark_noise.json. Real footage is never used for them (its licence, and the rule
that nothing that ships is fitted on the frames we measure on).
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tools"))
RESULTS = REPO / "bench" / "results" / "landmark_noise.json"
CLIPS = (("key", "plain", "open,claw,pinch,fist,open"), ("soft", "textured", "open,sphere,ok,point,open"),
         ("side", "plain", "open,peace,cylinder,fist,open"), ("key", "textured", "open,ok,claw,sphere,open"))


def readings(clip: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MediaPipe's image landmarks (x, y, depth) and world landmarks, and the truth, on the frames it found."""
    from backend.detect.hands import HandDetector
    from backend.capture.footage import open_footage

    truth = np.load(clip.with_suffix(".truth.npz"))["keypoints3d"]
    image, world, found = [], [], []
    with HandDetector(max_hands=1, video=True) as detector:
        for index, frame in open_footage(clip).frames(0, None):
            for detection in detector.detect(frame):
                image.append(np.concatenate([detection.keypoints, detection.depth[:, None]], 1))
                world.append(detection.world)
                found.append(index)
    return np.stack(image), np.stack(world), truth[found]


def axis_sigma(reading: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """(3,) per-axis standard deviation about the truth after a similarity alignment, in hand sizes."""
    from backend.metrics import procrustes_align
    from backend.capture.refine import hand_size

    error = (procrustes_align(reading, truth) - truth) / hand_size(truth)[:, None, None]
    return np.sqrt((error ** 2).mean((0, 1)))


def main(argv: list[str] | None = None) -> int:
    from sample_clip import render_clip

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=36)
    args = parser.parse_args(argv)
    image, world, truth = [], [], []
    with tempfile.TemporaryDirectory() as folder:
        for lighting, background, gestures in CLIPS:
            clip = render_clip(Path(folder) / f"{lighting}_{background}.mp4", args.frames,
                               sequence=tuple(gestures.split(",")), lighting=lighting, background=background)
            for collected, values in zip((image, world, truth), readings(clip)):
                collected.append(values)
    image, world, truth = (np.concatenate(values) for values in (image, world, truth))
    report = {"frames": len(truth), "clips": [list(clip) for clip in CLIPS],
              "image_sigma": axis_sigma(image, truth).round(3).tolist(),
              "world_sigma": axis_sigma(world, truth).round(3).tolist()}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(f"{report['frames']} frames: IMAGE_SIGMA = {tuple(report['image_sigma'])}, "
          f"WORLD_SIGMA = {tuple(report['world_sigma'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
