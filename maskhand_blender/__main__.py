"""The headless main job: footage in, a keyed .blend and a picture out, through real Blender (the bpy module).

    python -m maskhand_blender capture [VIDEO] -o out/capture.blend --preview out/preview.png [--verbose]

Run with the project environment's Python (bpy and the backend's packages: ``tools/bootstrap.py``),
from the MaskHand folder. Without VIDEO it uses the project's own sample clip (the built-in hand
going through a few gestures, tools/sample_clip.py), rendered once into the checkout's ``.cache/``
and kept there, since the .blend's reference camera and re-capture read it. Blender runs the add-on
from this folder, starts the backend as the add-on does, keys a MaskHand hand per track found,
saves the .blend and renders the picture: the footage frame (with what the capture saw, from the
backend's preview) beside the keyed hand seen through the footage's camera.

The terminal gets a line per stage and a summary; Blender's own log goes to a file (shown with
``--verbose``). Only the files asked for are written; their folders must exist.
"""
from __future__ import annotations

import argparse
import dataclasses
import hashlib
import os
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
MODULE = "maskhand_blender"
SAMPLE_CACHE = REPO / ".cache" / "sample_clip"
# What the sample clip is made from: a change to any of them renders it again.
SAMPLE_SOURCES = (REPO / "tools" / "sample_clip.py", REPO / "backend" / "hand_model" / "builtin_surface.npz")


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m maskhand_blender", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    capture = commands.add_parser("capture", help="capture footage into a keyed .blend")
    capture.add_argument("video", nargs="?", type=Path, help="footage; default: the sample clip")
    capture.add_argument("-o", "--output", required=True, help="the .blend to write (its folder must exist)")
    capture.add_argument("--preview", help="also write this picture (.png)")
    capture.add_argument("--hands", choices=("both", "left", "right"), default="both")
    capture.add_argument("--max-hands", type=int, default=2, choices=range(1, 9), metavar="1-8",
                         help="the most hands to look for in a frame (3 or more: several people); each is keyed")
    capture.add_argument("--frame-start", type=int, default=0)
    capture.add_argument("--frame-end", type=int, default=0, help="footage frame to stop before; 0: the end")
    capture.add_argument("--samples", type=int, default=0, help="hypotheses per hand and frame; 0: the checkpoint's")
    capture.add_argument("--iterations", type=int, default=0, help="decoding iterations; 0: the checkpoint's")
    capture.add_argument("--device", choices=("auto", "cuda", "cpu"), default="auto")
    capture.add_argument("--backend-python", default=sys.executable,
                         help="the backend environment's Python (default: this one)")
    capture.add_argument("--verbose", action="store_true", help="show Blender's log and every progress step")
    return parser.parse_args(argv)


@contextmanager
def blender_log(path: Path, verbose: bool):
    """Blender's C code prints to the process's stdout (renders, saves): send it to ``path`` unless verbose.
    Python's own messages (this job's lines, warnings, errors) use stderr and stay on the terminal."""
    if verbose:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    saved = os.dup(1)
    with open(path, "ab") as file:
        os.dup2(file.fileno(), 1)
        try:
            yield
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)


def sample_clip_path() -> Path:
    """Where the sample clip of the current sources (SAMPLE_SOURCES) lies once rendered."""
    key = hashlib.sha256(b"".join(path.read_bytes() for path in SAMPLE_SOURCES)).hexdigest()[:12]
    return SAMPLE_CACHE / f"sample-{key}.mp4"


def sample_clip(verbose: bool = False) -> Path:
    """The sample clip, rendered once per version of what it is made from; older versions are removed."""
    clip = sample_clip_path()
    if clip.is_file():
        log(f"footage   the sample clip ({clip.relative_to(REPO)}, rendered before)")
        return clip
    log(f"footage   rendering the sample clip into {clip.relative_to(REPO)} (Cycles, about a minute, once)")
    SAMPLE_CACHE.mkdir(parents=True, exist_ok=True)
    partial = clip.with_name(f".{clip.stem}.partial.mp4")
    completed = subprocess.run([sys.executable, str(REPO / "tools" / "sample_clip.py"), str(partial)],
                               capture_output=not verbose, text=True)
    if completed.returncode:
        for leftover in SAMPLE_CACHE.glob(f".{clip.stem}.partial*"):
            leftover.unlink()
        raise MainJobError("sample_clip_failed", "rendering the sample clip failed:\n" + (completed.stderr or "")[-2000:],
                           "run tools/sample_clip.py by hand to see why, or give a video")
    for old in SAMPLE_CACHE.glob("sample-*"):
        old.unlink()
    partial.with_suffix(".truth.npz").replace(clip.with_suffix(".truth.npz"))
    partial.replace(clip)
    return clip


class MainJobError(Exception):
    def __init__(self, code: str, message: str, hint: str = ""):
        super().__init__(message)
        self.code, self.message, self.hint = code, message, hint


def run_job(backend, request: dict, stage_log: "StageLog", timeout: float = 3600.0):
    """Drive one CaptureJob to its end, reporting its stages; returns the job."""
    from .core.backend_client import CaptureJob

    job = CaptureJob(backend, request)
    deadline = time.monotonic() + timeout
    while not job.finished:
        job.handle(backend.wait_for({"hello", "progress", "warning", "done", "error", "garbage"},
                                    min(job.silence_limit, max(1.0, deadline - time.monotonic()))))
        stage_log(job.stage, job.fraction)
    stage_log.end()
    return job


class StageLog:
    """A line per stage of the backend's job. On a terminal the line's percentage updates in place;
    in a log (or with every_step) each step gets its own line only when verbose."""

    def __init__(self, stream=sys.stderr, verbose: bool = False):
        self.stream, self.verbose, self.tty = stream, verbose, stream.isatty()
        self.stage, self.shown = None, -1

    def __call__(self, stage: str, fraction: float) -> None:
        percent = int(100 * fraction)
        if stage != self.stage:
            self.end()
            self.stage, self.shown = stage, -1
            if not (self.tty or self.verbose):
                self.stream.write(f"  {stage}\n")
        if percent != self.shown and (self.tty or self.verbose):
            self.shown = percent
            self.stream.write(f"\r  {stage:10s} {percent:3d} %" if self.tty else f"  {stage:10s} {percent:3d} %\n")
        self.stream.flush()

    def end(self) -> None:
        if self.tty and self.stage is not None:
            self.stream.write("\n")
        self.stage = None


def capture(args) -> int:
    import bpy

    import addon_utils  # importable once bpy is

    from backend.capture.outputs import check_output
    from backend.capture.protocol import ProtocolError

    from .blender.capture_apply import apply_capture, capture_plan
    from .blender.backend_process import LOG_PATH, start_backend
    from .blender.settings import check_settings, panel_request

    started = time.monotonic()
    inputs = (args.video,) if args.video else ()
    try:
        output = check_output(args.output, "-o", inputs, example="capture.blend").absolute()
        preview = check_output(args.preview, "--preview", inputs, example="preview.png").absolute() \
            if args.preview else None
        if preview == output:
            raise ProtocolError("bad_request", "-o and --preview name the same file", "give each its own file")
        if args.video and not args.video.is_file():
            raise ProtocolError("file_not_found", f"footage not found: '{args.video}'", "check the path of the footage file")
        video = args.video.absolute() if args.video else sample_clip(args.verbose)
    except (ProtocolError, MainJobError) as error:
        log(f"error [{error.code}]: {error.message}" + (f"\n  {error.hint}" if error.hint else ""))
        return 2
    blender_log_path = LOG_PATH.with_name("blender.log")
    stage_log = StageLog(verbose=args.verbose)
    with blender_log(blender_log_path, args.verbose):
        bpy.ops.wm.read_factory_settings(use_empty=True)
        package = sys.modules[MODULE]  # already imported (this command runs from it): Blender need not reload it
        package.__time__ = os.path.getmtime(package.__file__)
        addon_utils.enable(MODULE, default_set=True)
    context = bpy.context
    preferences = context.preferences.addons[MODULE].preferences
    preferences.backend_folder, preferences.backend_python = str(REPO), args.backend_python
    preferences.device = args.device.upper()
    settings = context.scene.maskhand
    settings.footage, settings.hands, settings.max_hands = str(video), args.hands.upper(), args.max_hands
    settings.frame_start, settings.frame_end = args.frame_start, args.frame_end
    settings.samples, settings.iterations = args.samples, args.iterations
    check_settings(settings)
    plan = dataclasses.replace(capture_plan(settings), every_track=True)  # one built-in hand per track
    request = panel_request(settings, preferences)
    # The result stays where the add-on puts it (a temporary folder): the .blend's Last Capture reads it.
    with tempfile.TemporaryDirectory(prefix="maskhand-picture-") as scratch:
        log(f"capture   {video.name} (backend log: {LOG_PATH})")
        backend = start_backend(preferences)
        try:
            job = run_job(backend, request, stage_log)
        finally:
            backend.stop()
        if job.state != "done":
            log(f"error: capture {job.state}: {job.error or ''}")
            return 1
        log_sampling(job)
        for warning in dict.fromkeys(job.warnings):  # each once
            log(f"warning   {warning}")
        with blender_log(blender_log_path, args.verbose):
            keyed = apply_capture(context, plan, job.done["result"], request)
            scene = context.scene
            armatures = [obj for obj in scene.objects if obj.type == "ARMATURE" and obj.animation_data]
            if armatures:
                first, last = armatures[0].animation_data.action.frame_range
                scene.frame_start, scene.frame_end = int(first), int(last)
            bpy.ops.wm.save_as_mainfile(filepath=str(output))
        log(f"result    {keyed}")
        written = [output]
        if preview:
            log("picture   the middle frame with a hand: footage | keyed hand (Cycles)")
            with blender_log(blender_log_path, args.verbose):
                picture = write_picture(context, preview, Path(scratch), job.done, request)
            if picture:
                written.append(picture)
    log(f"done in {time.monotonic() - started:.0f} s: wrote {', '.join(str(path) for path in written)}")
    return 0


def log_sampling(job) -> None:
    """The samples and iterations the capture ran with, where the backend's hello says them."""
    from .core.backend_sampling import KEYS, BackendSampling

    sampling = BackendSampling.of_hello(job.hello)
    samples, iterations = (sampling.effective(key, job.request.get(key)) for key in KEYS)
    if samples and iterations:
        log(f"sampling  {samples} samples, {iterations} iterations")


def write_picture(context, preview: Path, scratch: Path, done: dict, request: dict):
    """The footage frame (with the backend's overlay) beside a render of the keyed hand through the footage
    camera, written to ``preview``; the steps' files go to ``scratch``. Returns the picture's path, or None."""
    import bpy

    from .blender.compat import shader_nodes
    from .blender.keying import scene_mapping
    from .blender.backend_process import start_backend
    from .blender.settings import addon_preferences
    from .core.requests import still_request
    from .core.result_file import read_capture

    capture = read_capture(done["result"])
    counts = {track: hand.frames_found for track, hand in capture.hands.items()}
    if not any(counts.values()):
        log("picture   no hand was found in the footage; no picture written")
        return None
    track = max(counts, key=counts.get)
    hand = capture.hands[track]
    row = int(np.flatnonzero(hand.valid)[len(np.flatnonzero(hand.valid)) // 2])  # the middle frame with a hand
    footage_frame = int(hand.frames[row])
    one_frame = still_request(request, footage_frame, scratch)
    backend = start_backend(addon_preferences(context))
    try:
        job = run_job(backend, one_frame, StageLog(open(os.devnull, "w")))
    finally:
        backend.stop()
    if job.state != "done":
        log(f"picture   the footage still failed ({job.error}); no picture written")
        return None
    scene = context.scene
    camera = next(obj for obj in scene.objects if obj.type == "CAMERA")
    scene.camera = camera
    mapping = scene_mapping(scene, capture.fps, context.scene.maskhand.frame_start)
    scene.frame_set(int(round(mapping.to_scene(footage_frame))))
    width, height = capture.image_size
    scene.render.resolution_x, scene.render.resolution_y, scene.render.resolution_percentage = width, height, 100
    scene.render.engine = "CYCLES"
    scene.cycles.device, scene.cycles.samples, scene.cycles.use_denoising = "CPU", 16, False
    scene.world = bpy.data.worlds.new("MaskHand Preview")
    shader_nodes(scene.world).nodes["Background"].inputs[0].default_value = (0.18, 0.2, 0.23, 1.0)
    light = bpy.data.objects.new("Preview Light", bpy.data.lights.new("Preview Light", "SUN"))
    light.data.energy = 3.0
    light.rotation_euler = camera.rotation_euler
    scene.collection.objects.link(light)
    rendered = scratch / "render.png"
    scene.render.filepath = str(rendered)
    bpy.ops.render.render(write_still=True)
    left, right = (np.array(bpy.data.images.load(path).pixels[:]).reshape(height, width, 4)
                   for path in (one_frame["preview"], str(rendered)))
    picture = bpy.data.images.new("MaskHand Preview", 2 * width, height)
    picture.pixels.foreach_set(np.concatenate([left, right], 1).astype(np.float32).ravel())
    partial = preview.with_name(f".{preview.stem}.partial.png")
    picture.filepath_raw, picture.file_format = str(partial), "PNG"
    picture.save()
    partial.replace(preview)
    return preview


def main(argv=None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    return capture(args)


if __name__ == "__main__":
    sys.exit(main())
