"""Real footage with 3D ground truth: the capture beside MediaPipe's world landmarks and the built-in hand fitted to them.

    .venv/bin/python bench/bench_real.py

Runs ``backend.training.evaluate_real`` on ../shared/data/realworld_dev (300 real frames of a left hand;
non-commercial research licence: measured on, never fitted to, never copied): the whole pipeline
at the defaults and at K=1, MediaPipe 0.10.21's world landmarks, and the built-in hand fitted to
them. Writes bench/results/real.json and the real-footage section of docs/evaluation.md (the
synthetic part is rewritten from docs/evaluation.json unchanged). About two minutes on 2 cores.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
DATA = REPO.parent / "shared" / "data" / "realworld_dev"


def main() -> int:
    from backend.training.evaluate import REAL_RESULTS, write_markdown
    from backend.training.evaluate_real import evaluate_real, to_markdown

    if not (DATA / "annotations.npz").is_file():
        raise SystemExit(f"no real frames at {DATA} (../shared/data is absent)")
    report = evaluate_real(DATA)
    print(to_markdown(report))
    REAL_RESULTS.parent.mkdir(parents=True, exist_ok=True)
    REAL_RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    write_markdown(json.loads((REPO / "docs" / "evaluation.json").read_text()), REPO / "docs" / "evaluation.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
