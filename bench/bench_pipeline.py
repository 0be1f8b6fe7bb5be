"""Pipeline speed against MediaPipe alone, and memory against clip length.

    .venv/bin/python bench/bench_pipeline.py [--frames 150] [--rounds 5]

The clip is a slow pan across a real photograph with two hands (../shared/data/hamer_example/
test1.jpg), so MediaPipe tracks two hands in every frame. Measured in one run, on the same
clip: legacy MediaPipe alone (mediapipe 0.10.21's solutions.hands: detection + landmarks, what
any pipeline must do, and the base of every ratio), our detector alone (the same networks in ONNX
Runtime, backend.detect.hands), the whole pipeline
with the torch engine and with the ONNX engine (the checkpoint's T, K=1: no temporal choice, as K=1 leaves
nothing to choose), and with torch unrefined (--no-refine: what backend.capture.refine costs), as
frames per second and as ratios to MediaPipe alone. Each is timed as
a job: from opening the footage to its last result (the detector's and the model's start
included), in interleaved rounds whose medians are reported. Memory: peak
resident memory of a pipeline process with the default settings (the checkpoint's K, temporal mode) on the
clip and on the same clip ten times longer, the median of three processes each.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
PHOTO = REPO.parent / "shared" / "data" / "hamer_example" / "test1.jpg"
RESULTS = REPO / "bench" / "results" / "pipeline.json"


def make_clip(path: Path, frames: int) -> Path:
    photo = cv2.imread(str(PHOTO))
    if photo is None:
        raise SystemExit(f"bench needs {PHOTO} (../shared/data)")
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30, (640, 480))
    for i in range(frames):
        shift = int(40 * np.sin(2 * np.pi * i / 60))  # back and forth, any length
        writer.write(np.ascontiguousarray(photo[40 + shift // 4: 520 + shift // 4, 100 + shift: 740 + shift]))
    writer.release()
    return path


def detector_alone(clip: Path, legacy: bool, threads: int = 0, device: str = "cpu") -> float:
    """Frames per second of detection alone: MediaPipe 0.10.21's legacy solution, or our detector (its networks in
    ONNX Runtime on ``device`` with ``threads`` CPU threads, 0 for all cores)."""
    from backend.detect.hands import HandDetector
    from backend.detect.mediapipe_hands import MediaPipeHands
    from backend.capture.footage import open_footage

    # Timed like a pipeline job: from opening the footage to the last detection, the detector's start included.
    started, count = time.perf_counter(), 0
    footage = open_footage(clip)
    with (MediaPipeHands(max_hands=2, video=True) if legacy else
          HandDetector(max_hands=2, video=True, threads=threads, device=device)) as detector:
        for _, frame in footage.frames(0, None):
            detector.detect(frame)
            count += 1
    return count / (time.perf_counter() - started)


def pipeline_fps(clip: Path, engine: str, out: Path, refine: bool = True, device: str = "cpu",
                 samples: int | None = 1) -> float:
    """Frames per second of a whole capture job at the checkpoint's T with ``samples`` hypotheses (None: the
    checkpoint's K; temporal mode where they differ)."""
    from backend.capture.pipeline import run_capture
    from backend.capture.protocol import CaptureRequest

    request = CaptureRequest(job="bench", video=str(clip), output=str(out), samples=samples, engine=engine,
                             device=device, refine=refine)
    started = time.perf_counter()
    summary = run_capture(request)
    return summary["frames"] / (time.perf_counter() - started)


def peak_memory_mb(clip: Path, out: Path) -> float:
    # The product's defaults (the checkpoint's K hypotheses, temporal mode), which keep the most per frame.
    code = ("import resource, sys; sys.path.insert(0, %r); from backend.capture.pipeline import run_capture; "
            "from backend.capture.protocol import CaptureRequest; run_capture(CaptureRequest(job='m', video=%r, output=%r, "
            "device='cpu')); print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
            % (str(REPO), str(clip), str(out)))
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(completed.stdout.split()[-1]) / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=150, help="speed clip length (5 s at 30 fps)")
    parser.add_argument("--memory-frames", type=int, default=60, help="memory: this clip and one ten times longer")
    parser.add_argument("--rounds", type=int, default=5, help="speed rounds, interleaved; medians are reported")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        clip = make_clip(folder / "clip.mp4", args.frames)
        pipeline_fps(clip, "torch", folder / "w.npz")  # warm-up: files into the page cache, libraries loaded
        rounds = {"mediapipe_fps": [], "detector_fps": [], "torch_fps": [], "onnx_fps": [], "torch_unrefined_fps": []}
        for _ in range(args.rounds):  # interleaved, so a slow spell of the machine hits every method alike
            rounds["mediapipe_fps"].append(detector_alone(clip, legacy=True))
            rounds["detector_fps"].append(detector_alone(clip, legacy=False))
            rounds["torch_fps"].append(pipeline_fps(clip, "torch", folder / "t.npz"))
            rounds["onnx_fps"].append(pipeline_fps(clip, "onnx", folder / "o.npz"))
            rounds["torch_unrefined_fps"].append(pipeline_fps(clip, "torch", folder / "u.npz", refine=False))
        figures = {"frames": args.frames, "rounds": rounds, **{key: float(np.median(values)) for key, values in rounds.items()}}
        figures["detector_ratio"] = figures["detector_fps"] / figures["mediapipe_fps"]
        figures["torch_ratio"] = figures["torch_fps"] / figures["mediapipe_fps"]
        figures["onnx_ratio"] = figures["onnx_fps"] / figures["mediapipe_fps"]
        figures["torch_unrefined_ratio"] = figures["torch_unrefined_fps"] / figures["mediapipe_fps"]
        short, long_clip = make_clip(folder / "short.mp4", args.memory_frames), make_clip(folder / "long.mp4", 10 * args.memory_frames)
        figures["memory_frames"] = args.memory_frames
        # Peak RSS varies by about 10 % from run to run (seen: 0.97 and 1.14 for the same code): median of 3 each.
        figures["peak_mb_clip"] = float(np.median([peak_memory_mb(short, folder / "m1.npz") for _ in range(3)]))
        figures["peak_mb_10x"] = float(np.median([peak_memory_mb(long_clip, folder / "m10.npz") for _ in range(3)]))
        figures["memory_ratio_10x"] = figures["peak_mb_10x"] / figures["peak_mb_clip"]
    print(f"MediaPipe alone      {figures['mediapipe_fps']:6.1f} fps  (legacy mediapipe 0.10.21: every ratio's base)")
    print(f"our detector alone   {figures['detector_fps']:6.1f} fps  ratio {figures['detector_ratio']:.2f} (target >= 1.5)")
    print(f"pipeline, torch      {figures['torch_fps']:6.1f} fps  ratio {figures['torch_ratio']:.2f} (target >= 1.2)")
    print(f"pipeline, ONNX       {figures['onnx_fps']:6.1f} fps  ratio {figures['onnx_ratio']:.2f} (target >= 1.2)")
    print(f"  torch, --no-refine {figures['torch_unrefined_fps']:6.1f} fps  ratio {figures['torch_unrefined_ratio']:.2f} "
          "(what the refinement costs)")
    print(f"peak memory {figures['peak_mb_clip']:.0f} MB ({args.memory_frames} frames), {figures['peak_mb_10x']:.0f} MB "
          f"({10 * args.memory_frames} frames): ratio {figures['memory_ratio_10x']:.3f} (target <= 1.10)")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
