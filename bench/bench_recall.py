"""Hands found per photograph: MediaPipe alone against MediaPipe with our tiled second pass.

    .venv/bin/python bench/bench_recall.py

Runs on the real photographs in ../shared/data/hamer_example (see its README for what plain
MediaPipe finds) with the settings the pipeline uses for stills; writes bench/results/recall.json.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import cv2

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
PHOTOS = REPO.parent / "shared" / "data" / "hamer_example"
RESULTS = REPO / "bench" / "results" / "recall.json"


def hands_found(photos: list[Path], extra_passes: bool) -> dict:
    from backend.detect.mediapipe_hands import MediaPipeHands

    found = {}
    for photo in photos:
        with MediaPipeHands(max_hands=4, video=False, extra_passes=extra_passes) as detector:
            found[photo.name] = [[d.side, round(d.score, 3)] for d in detector.detect(cv2.imread(str(photo)))]
    return found


def main() -> int:
    photos = sorted(PHOTOS.glob("*.jpg"))
    if not photos:
        raise SystemExit(f"no photographs in {PHOTOS} (../shared/data is absent)")
    before, after = hands_found(photos, False), hands_found(photos, True)
    print(f"{'photo':12s} {'MediaPipe':>10s} {'+ tiles':>8s}")
    for photo in photos:
        print(f"{photo.name:12s} {len(before[photo.name]):10d} {len(after[photo.name]):8d}")
    total_before, total_after = sum(map(len, before.values())), sum(map(len, after.values()))
    print(f"{'total':12s} {total_before:10d} {total_after:8d}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"mediapipe_alone": before, "with_tile_pass": after,
                                   "total_before": total_before, "total_after": total_after}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
