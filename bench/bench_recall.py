"""Hands found per photograph, and on which side: plain MediaPipe against the product's capture.

    .venv/bin/python bench/bench_recall.py

Runs on the real photographs in ../shared/data/hamer_example, whose every visible hand we
labelled by eye (tests/photo_labels.py: the person's own side). Plain MediaPipe is the legacy
solution as its README runs it (static images, up to 4 hands, detection confidence 0.3, its
label un-mirrored); the product is the capture as a user runs it on a still (``run_capture``,
defaults, and with ``max_hands`` 4). Per method: hands found, of them on the right side, and
non-hands (found where no hand is). Writes bench/results/recall.json.
"""
from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
PHOTOS = REPO.parent / "shared" / "data" / "hamer_example"
RESULTS = REPO / "bench" / "results" / "recall.json"


def plain_mediapipe(photo: Path) -> list:
    """[(side, keypoints (21, 2))] from MediaPipe alone."""
    import mediapipe as mp

    image = cv2.imread(str(photo))
    height, width = image.shape[:2]
    with mp.solutions.hands.Hands(static_image_mode=True, max_num_hands=4, model_complexity=1,
                                  min_detection_confidence=0.3) as hands:
        result = hands.process(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
    found = []
    for landmarks, handedness in zip(result.multi_hand_landmarks or [], result.multi_handedness or []):
        side = "right" if handedness.classification[0].label == "Left" else "left"  # its labels assume a mirror
        found.append((side, np.array([[p.x * width, p.y * height] for p in landmarks.landmark])))
    return found


def product(photo: Path, max_hands: int) -> list:
    """[(side, keypoints (21, 2))] from the product's capture of a still."""
    from backend.capture.pipeline import run_capture
    from backend.capture.protocol import CaptureRequest
    from backend.capture.result import read_result, track_side

    with tempfile.TemporaryDirectory() as folder:
        output = Path(folder) / "result.npz"
        run_capture(CaptureRequest(job="recall", video=str(photo), output=str(output), max_hands=max_hands))
        result = read_result(output)
    return [(track_side(name), result[name]["keypoints2d"][0]) for name in result["header"]["tracks"].tolist()
            if result[name]["valid"][0]]


def scored(photo: Path, found: list) -> dict:
    """Found hands against our labels: counts, and per found hand (side found, side expected or None)."""
    from tests.photo_labels import PHOTO_HANDS, labelled_hand

    hands = []
    for side, keypoints in found:
        label = labelled_hand(photo.name, keypoints)
        hands.append({"label": label, "found": side, "expected": PHOTO_HANDS[photo.name][label][0] if label else None})
    return {"found": len(hands), "side_correct": sum(h["found"] == h["expected"] for h in hands),
            "non_hands": sum(h["label"] is None for h in hands), "hands": hands}


def main() -> int:
    from tests.photo_labels import PHOTO_HANDS

    photos = sorted(PHOTOS.glob("*.jpg"))
    if not photos:
        raise SystemExit(f"no photographs in {PHOTOS} (../shared/data is absent)")
    methods = {"mediapipe_alone": plain_mediapipe, "product": lambda photo: product(photo, 2),
               "product_max_hands_4": lambda photo: product(photo, 4)}
    figures = {name: {photo.name: scored(photo, run(photo)) for photo in photos} for name, run in methods.items()}
    print(f"{'photo':10s} {'hands':>5s}" + "".join(f" {name:>26s}" for name in methods))
    print(f"{'':16s}" + "".join(f" {'found / side right / non':>26s}" for _ in methods))
    totals = {name: {key: sum(f[key] for f in figures[name].values()) for key in ("found", "side_correct", "non_hands")}
              for name in methods}
    for photo in photos:
        cells = "".join(f" {figures[name][photo.name]['found']:>12d} {figures[name][photo.name]['side_correct']:>6d}"
                        f" {figures[name][photo.name]['non_hands']:>6d}" for name in methods)
        print(f"{photo.name:10s} {len(PHOTO_HANDS[photo.name]):5d}{cells}")
    labelled = sum(len(PHOTO_HANDS[photo.name]) for photo in photos)
    print(f"{'total':10s} {labelled:5d}" + "".join(f" {t['found']:>12d} {t['side_correct']:>6d} {t['non_hands']:>6d}"
                                                   for t in totals.values()))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"labelled_hands": labelled, "totals": totals, "photos": figures}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
