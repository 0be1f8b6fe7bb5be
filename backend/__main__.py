"""The backend's command line.

    python -m backend capture VIDEO -o result.npz [--preview preview.mp4] [options]
    python -m backend serve [--checkpoint DIR] [--mano-folder DIR]     # the add-on's subprocess service

Training and evaluation are the researcher's commands: ``python -m backend.training.train``, ``.evaluate``,
``.calibrate``, ``.export_onnx`` (backend/training).
"""
from __future__ import annotations

import argparse
import sys
import uuid


def parse_frames(text: str) -> tuple:
    start, _, end = text.partition(":")
    return int(start or 0), (int(end) if end else None)


def capture_command(args: argparse.Namespace) -> int:
    from .capture.pipeline import run_capture
    from .capture.protocol import CaptureRequest, ProtocolError

    frame_start, frame_end = parse_frames(args.frames)
    try:
        request = CaptureRequest(job=uuid.uuid4().hex[:8], video=args.video, output=args.output,
                                 frame_start=frame_start, frame_end=frame_end, hands=args.hands, max_hands=args.max_hands,
                                 samples=args.samples, iterations=args.iterations, temperature=args.temperature,
                                 temporal=not args.no_temporal, refine=not args.no_refine, device=args.device,
                                 engine=args.engine, checkpoint=args.checkpoint, mano_folder=args.mano_folder,
                                 mirrored=args.mirrored, preview=args.preview)
        request.validate()
        summary = run_capture(request, progress=ProgressBar(sys.stderr),
                              warn=lambda code, message: print(f"warning [{code}]: {message}", file=sys.stderr))
    except ProtocolError as error:
        print(f"error [{error.code}]: {error.message}" + (f"\n  {error.hint}" if error.hint else ""), file=sys.stderr)
        return 2
    hands = ", ".join(f"{track} in {count} frames" for track, count in summary["hands"].items())
    print(f"wrote {summary['result']}: {summary['frames']} frames, {hands} ({summary['seconds']:.1f} s on "
          f"{summary['device']}, {summary['engine']})")
    return 0


class ProgressBar:
    """A one-line progress bar on a terminal; silent when stderr is not one (logs, CI)."""

    def __init__(self, stream):
        self.stream, self.active = stream, stream.isatty()

    def __call__(self, stage: str, frame: int, total: int, **_):
        if not self.active:
            return
        width = 30
        filled = int(width * frame / max(total, 1))
        self.stream.write(f"\r{stage:<10} [{'#' * filled}{'.' * (width - filled)}] {frame}/{total}")
        if stage == "preview" or frame >= total and stage == "smoothing":
            self.stream.write("\n")
        self.stream.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m backend", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    capture = commands.add_parser("capture", help="capture the hands in a video (or image) to a result .npz")
    capture.add_argument("video")
    capture.add_argument("-o", "--output", required=True, help="result .npz")
    capture.add_argument("--frames", default=":", help="frame range START:END (END exclusive), e.g. 0:120")
    capture.add_argument("--hands", choices=("left", "right", "both"), default="both")
    capture.add_argument("--max-hands", type=int, default=2,
                         help="the most hands to look for in a frame, of any side (3 or more: several people)")
    capture.add_argument("--samples", type=int,
                         help="K hypotheses per hand (uncertainty, temporal mode; default: the checkpoint's)")
    capture.add_argument("--iterations", type=int,
                         help="T decoding iterations (quality vs speed; default: the checkpoint's)")
    capture.add_argument("--temperature", type=float,
                         help="temperature of the hypotheses' draws (default: the checkpoint's; 0: greedy)")
    capture.add_argument("--no-temporal", action="store_true", help="pick each frame's best hypothesis on its own")
    capture.add_argument("--no-refine", action="store_true",
                         help="keep MaskHand's pose as it is, without fitting it to MediaPipe's 3D landmarks")
    capture.add_argument("--device", choices=("auto", "cuda", "cpu"), default="auto")
    capture.add_argument("--engine", choices=("torch", "onnx"), default="torch")
    capture.add_argument("--checkpoint", help="MaskHand checkpoint folder (default: the bundled maskhand-k)")
    capture.add_argument("--mano-folder", help="folder with MANO_RIGHT.pkl and MANO_LEFT.pkl (default: built-in hand)")
    capture.add_argument("--mirrored", action="store_true", help="the footage is mirrored (selfie camera)")
    capture.add_argument("--preview", help="write a preview video (.mp4) or still (.png)")
    serve = commands.add_parser("serve", help="JSON-lines service on stdin/stdout (docs/protocol.md)")
    serve.add_argument("--checkpoint")
    serve.add_argument("--mano-folder")
    args = parser.parse_args(argv)
    if args.command == "serve":
        from .capture.server import main as serve_main

        return serve_main(args.checkpoint, args.mano_folder)
    return capture_command(args)


if __name__ == "__main__":
    sys.exit(main())
