"""The headless main job: footage in, a keyed .blend and a picture out, through real Blender (the bpy module).

    python -m maskhand_blender capture [VIDEO] -o out/capture.blend --preview out/preview.png

Run with the project environment's Python (bpy and the backend's packages: ``tools/bootstrap.py``),
from the MaskHand folder. Without VIDEO it first renders the project's own sample clip (the
built-in hand going through a few gestures, tools/sample_clip.py), so it works on a fresh machine
with nothing downloaded. Blender runs the add-on from this folder, starts the backend as the
add-on does, keys a MaskHand hand per track found, saves the .blend and renders the picture: the
footage frame (with what the capture saw, from the backend's preview) beside the keyed hand seen
through the footage's camera.
"""
from __future__ import annotations

import argparse
import dataclasses
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
MODULE = "maskhand_blender"


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m maskhand_blender", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    capture = commands.add_parser("capture", help="capture footage into a keyed .blend")
    capture.add_argument("video", nargs="?", type=Path, help="footage; default: render the sample clip")
    capture.add_argument("-o", "--output", type=Path, required=True, help="the .blend to write")
    capture.add_argument("--preview", type=Path, help="also write this picture (.png)")
    capture.add_argument("--hands", choices=("both", "left", "right"), default="both")
    capture.add_argument("--max-hands", type=int, default=2, choices=range(1, 9), metavar="1-8",
                         help="the most hands to look for in a frame (3 or more: several people); each is keyed")
    capture.add_argument("--frame-start", type=int, default=0)
    capture.add_argument("--frame-end", type=int, default=0, help="footage frame to stop before; 0: the end")
    capture.add_argument("--samples", type=int, default=8)
    capture.add_argument("--iterations", type=int, default=5)
    capture.add_argument("--device", choices=("auto", "cuda", "cpu"), default="auto")
    capture.add_argument("--backend-python", default=sys.executable,
                         help="the backend environment's Python (default: this one)")
    return parser.parse_args(argv)


def sample_clip(folder: Path) -> Path:
    clip = folder / "sample.mp4"
    log(f"rendering the sample clip {clip} (Cycles, about half a second a frame)")
    subprocess.run([sys.executable, str(REPO / "tools" / "sample_clip.py"), str(clip)], check=True)
    return clip


def run_job(backend, request: dict, timeout: float = 3600.0):
    """Drive one CaptureJob to its end, printing progress; returns the job."""
    from .backend_client import CaptureJob

    job = CaptureJob(backend, request)
    deadline, shown = time.monotonic() + timeout, -1
    while not job.finished:
        job.handle(backend.wait_for({"hello", "progress", "warning", "done", "error", "garbage"},
                                    min(job.silence_limit, max(1.0, deadline - time.monotonic()))))
        if int(20 * job.fraction) != shown:
            shown = int(20 * job.fraction)
            log(f"  {job.stage:9s} {100 * job.fraction:5.1f} %")
    return job


def capture(args) -> int:
    import bpy

    import addon_utils  # importable once bpy is

    from .backend_client import BackendProcess
    from .capture_setup import LOG_PATH, apply_capture, capture_plan, capture_request, check_settings

    output = args.output.resolve()
    output.parent.mkdir(parents=True, exist_ok=True)
    video = args.video.resolve() if args.video else sample_clip(output.parent)
    bpy.ops.wm.read_factory_settings(use_empty=True)
    addon_utils.enable(MODULE, default_set=True)
    context = bpy.context
    preferences = context.preferences.addons[MODULE].preferences
    preferences.backend_folder, preferences.backend_python = str(REPO), args.backend_python
    preferences.device = args.device.upper()
    settings = context.scene.maskhand
    settings.footage, settings.hands, settings.max_hands = str(video), args.hands.upper(), args.max_hands
    settings.frame_start, settings.frame_end = args.frame_start, args.frame_end
    settings.samples, settings.iterations = args.samples, args.iterations
    check_settings(context, settings)
    plan = dataclasses.replace(capture_plan(context, settings), every_track=True)  # one built-in hand per track
    request = capture_request(context, settings, preferences)
    backend = BackendProcess(args.backend_python, REPO, LOG_PATH)
    try:
        log(f"capturing {video} (backend log: {LOG_PATH})")
        job = run_job(backend, request)
    finally:
        backend.stop()
    if job.state != "done":
        log(f"capture {job.state}: {job.error or ''}")
        return 1
    for warning in job.warnings:
        log(f"warning: {warning}")
    log(apply_capture(context, plan, job.done["result"], request))
    scene = context.scene
    keyed = [obj for obj in scene.objects if obj.type == "ARMATURE" and obj.animation_data]
    if keyed:
        first, last = keyed[0].animation_data.action.frame_range
        scene.frame_start, scene.frame_end = int(first), int(last)
    bpy.ops.wm.save_as_mainfile(filepath=str(output))
    log(f"wrote {output}")
    if args.preview:
        write_picture(context, args, video, job.done, request, backend_args=(args.backend_python,))
    return 0


def write_picture(context, args, video: Path, done: dict, request: dict, backend_args) -> None:
    """The footage frame (with the backend's overlay) beside a render of the keyed hand through the footage camera."""
    import bpy

    from .backend_client import BackendProcess
    from .capture_setup import LOG_PATH
    from .result_file import read_capture

    capture = read_capture(done["result"])
    counts = {track: hand.frames_found for track, hand in capture.hands.items()}
    if not any(counts.values()):
        log("picture: no hand was found in the footage; no picture written")
        return
    track = max(counts, key=counts.get)
    hand = capture.hands[track]
    row = int(np.flatnonzero(hand.valid)[len(np.flatnonzero(hand.valid)) // 2])  # the middle frame with a hand
    footage_frame = int(hand.frames[row])
    still = args.preview.with_name(args.preview.stem + ".footage.png").resolve()
    backend = BackendProcess(backend_args[0], REPO, LOG_PATH)
    try:
        one_frame = {**request, "job": request["job"] + "p", "frame_start": footage_frame,
                     "frame_end": footage_frame + 1, "output": str(still.with_suffix(".npz")), "preview": str(still)}
        job = run_job(backend, one_frame)
    finally:
        backend.stop()
    if job.state != "done":
        log(f"picture: the footage still failed ({job.error}); no picture written")
        return
    scene = context.scene
    camera = next(obj for obj in scene.objects if obj.type == "CAMERA")
    scene.camera = camera
    scene.frame_set(int(round(scene.frame_start + (footage_frame - context.scene.maskhand.frame_start) *
                              (scene.render.fps / scene.render.fps_base) / capture.fps)))
    width, height = capture.image_size
    scene.render.resolution_x, scene.render.resolution_y, scene.render.resolution_percentage = width, height, 100
    scene.render.engine = "CYCLES"
    scene.cycles.device, scene.cycles.samples, scene.cycles.use_denoising = "CPU", 16, False
    scene.world = bpy.data.worlds.new("MaskHand Preview")
    scene.world.use_nodes = True
    scene.world.node_tree.nodes["Background"].inputs[0].default_value = (0.18, 0.2, 0.23, 1.0)
    light = bpy.data.objects.new("Preview Light", bpy.data.lights.new("Preview Light", "SUN"))
    light.data.energy = 3.0
    light.rotation_euler = camera.rotation_euler
    scene.collection.objects.link(light)
    rendered = args.preview.with_name(args.preview.stem + ".render.png").resolve()
    scene.render.filepath = str(rendered)
    bpy.ops.render.render(write_still=True)
    left, right = (np.array(bpy.data.images.load(str(path)).pixels[:]).reshape(height, width, 4)
                   for path in (still, rendered))
    picture = bpy.data.images.new("MaskHand Preview", 2 * width, height)
    picture.pixels.foreach_set(np.concatenate([left, right], 1).astype(np.float32).ravel())
    picture.filepath_raw, picture.file_format = str(args.preview.resolve()), "PNG"
    picture.save()
    log(f"wrote {args.preview} (frame {footage_frame}: footage and what the capture saw | the keyed {track} hand)")


def main(argv=None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    return capture(args)


if __name__ == "__main__":
    sys.exit(main())
