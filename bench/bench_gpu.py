"""Frames per second on a CUDA machine: detection alone, and detection + MaskHand, on a 1280x720 two-hand clip.

    .venv/bin/python bench/bench_gpu.py [--frames 300] [--rounds 3]

The clip is a slow pan across a real photograph with two hands (../shared/data/hamer_example/
test1.jpg, scaled to fill 1280x720), so both hands are tracked in every frame. Measured in one
run, interleaved rounds, medians: our detector alone (MediaPipe's networks in ONNX Runtime) on
the CUDA execution provider and on the CPU; the whole pipeline (K=1 and the defaults: the checkpoint's K,
temporal) with the ONNX engine and the torch engine on CUDA. Each crop batch holds all of a
frame's crops (hands and tiles); frames follow one another because each frame's crops come from
the previous frame's landmarks. Writes bench/results/gpu.json with the GPU's name. Refuses to run
without CUDA (use bench_pipeline.py on a CPU).
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
PHOTO = REPO.parent / "shared" / "data" / "hamer_example" / "test1.jpg"
RESULTS = REPO / "bench" / "results" / "gpu.json"
WIDTH, HEIGHT = 1280, 720


def make_clip(path: Path, frames: int) -> Path:
    photo = cv2.imread(str(PHOTO))
    if photo is None:
        raise SystemExit(f"bench needs {PHOTO} (../shared/data)")
    scale = 1.15 * max(WIDTH / photo.shape[1], HEIGHT / photo.shape[0])
    photo = cv2.resize(photo, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    spare_x, spare_y = photo.shape[1] - WIDTH, photo.shape[0] - HEIGHT
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30, (WIDTH, HEIGHT))
    for i in range(frames):
        t = 0.5 + 0.5 * np.sin(2 * np.pi * i / 90)
        x, y = int(t * spare_x), int((1 - t) * spare_y)
        writer.write(np.ascontiguousarray(photo[y:y + HEIGHT, x:x + WIDTH]))
    writer.release()
    return path


def main() -> int:
    import onnxruntime
    import torch
    from bench_pipeline import detector_alone, pipeline_fps

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if not torch.cuda.is_available() or "CUDAExecutionProvider" not in onnxruntime.get_available_providers():
        raise SystemExit("bench_gpu needs CUDA for torch and onnxruntime-gpu's CUDA execution provider "
                         f"(torch CUDA: {torch.cuda.is_available()}, ONNX Runtime: "
                         f"{onnxruntime.get_available_providers()}); on a CPU run bench/bench_pipeline.py")
    methods = {"detection_cuda": lambda clip, folder: detector_alone(clip, legacy=False, device="cuda"),
               "detection_cpu": lambda clip, folder: detector_alone(clip, legacy=False),
               "pipeline_onnx_k1": lambda clip, folder: pipeline_fps(clip, "onnx", folder / "a.npz", device="cuda"),
               "pipeline_torch_k1": lambda clip, folder: pipeline_fps(clip, "torch", folder / "b.npz", device="cuda"),
               "pipeline_torch_defaults": lambda clip, folder: pipeline_fps(clip, "torch", folder / "c.npz",
                                                                            device="cuda", samples=None)}
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        clip = make_clip(folder / "clip.mp4", args.frames)
        methods["pipeline_torch_k1"](clip, folder)  # warm-up: CUDA contexts, kernels, page cache
        rounds = {name: [] for name in methods}
        for _ in range(args.rounds):
            for name, method in methods.items():
                rounds[name].append(method(clip, folder))
    figures = {"gpu": torch.cuda.get_device_name(0), "frames": args.frames, "size": [WIDTH, HEIGHT], "rounds": rounds,
               **{f"{name}_fps": float(np.median(values)) for name, values in rounds.items()}}
    for name in methods:
        print(f"{name:26s} {figures[name + '_fps']:7.1f} fps")
    print(f"on {figures['gpu']}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
