"""What a capture needs from Blender's settings, and what it does to the scene when it succeeds.

Shared by the modal Capture operator, the import operator and the headless job (``python -m maskhand_blender``).
Nothing here changes the scene until ``apply_capture``, which runs only on success, or ``key_further_track``,
which keys a track the capture left to the user.
"""
from __future__ import annotations

import json
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import bpy
import numpy as np

from .backend_client import BackendError, check_backend_setup
from .backend_environment import backend_paths
from .capture_import import HandTarget, import_capture
from .result_file import Capture, read_capture, track_label, track_side
from .retarget.presets import JOINTS, BoneMap, builtin_preset
from .retarget.solve import HAND_FRAME_JOINTS
from .rig import CAMERA_TO_WORLD_EULER, add_hand, bone_name

PRESET_FILES = {"BUILTIN": "builtin", "RIGIFY": "rigify", "MIXAMO": "mixamo"}
LOG_PATH = Path(tempfile.gettempdir()) / "maskhand" / "backend.log"
# Hypotheses differ only through the draws that steer later iterations (backend.maskhand.sampling):
# with fewer iterations they coincide, and temporal mode has nothing to weigh (the uncertainty then
# comes from the cue-only code distributions alone; one sample measures none).
STEERED_ITERATIONS = 2


def hypotheses_differ(samples: int, iterations: int) -> bool:
    return samples > 1 and iterations >= STEERED_ITERATIONS


class CaptureSetupError(Exception):
    """A setting that stops a capture before it starts; the message names it and what to do."""


def addon_preferences(context):
    return context.preferences.addons[__package__].preferences


def sides_of(settings) -> list:
    return {"BOTH": ["right", "left"], "RIGHT": ["right"], "LEFT": ["left"]}[settings.hands]


def bone_map_of(settings) -> BoneMap:
    if settings.preset == "CUSTOM":
        bones = {entry.joint: entry.bone.strip() for entry in settings.custom_bones}
        if not any(bones.values()):
            raise CaptureSetupError("the custom bone map is empty: fill it from a preset or load one in the "
                                    "MaskHand panel (Custom Map)")
        bone_map = BoneMap("Custom Map", bones, {"right": settings.custom_right, "left": settings.custom_left},
                           settings.custom_key_wrist)
    else:
        bone_map = builtin_preset(PRESET_FILES[settings.preset])
    unmapped = [JOINTS[joint] for joint in HAND_FRAME_JOINTS if not bone_map.bones.get(JOINTS[joint])]
    if unmapped:
        raise CaptureSetupError(f"the {bone_map.name} bone map must name bones for {', '.join(unmapped)}: the hand is "
                                "oriented from the wrist and the index, middle and pinky knuckles")
    return bone_map


def fill_custom_map(settings, bone_map: BoneMap) -> None:
    """Put a bone map into the panel's custom map rows."""
    settings.custom_bones.clear()
    for joint in JOINTS:
        entry = settings.custom_bones.add()
        entry.joint, entry.bone = joint, bone_map.bones.get(joint, "")
    settings.custom_right, settings.custom_left = bone_map.sides["right"], bone_map.sides["left"]
    settings.custom_key_wrist = bone_map.key_wrist


def check_settings(context, settings) -> None:
    """Everything that can be checked before the backend starts."""
    footage = Path(bpy.path.abspath(settings.footage)) if settings.footage else None
    if footage is None:
        raise CaptureSetupError("no footage chosen: pick a video in the MaskHand panel (Footage)")
    if not footage.is_file():
        raise CaptureSetupError(f"footage '{footage}' not found: pick the video again in the MaskHand panel")
    if settings.frame_end and settings.frame_end <= settings.frame_start:
        raise CaptureSetupError(f"frame range {settings.frame_start}-{settings.frame_end} is empty: End must be "
                                "after Start, or 0 for the whole video")
    bone_map = bone_map_of(settings)
    if settings.preset != "BUILTIN":
        if settings.target is None:
            raise CaptureSetupError(f"the {bone_map.name} preset needs a target armature: choose one in the MaskHand panel")
        for side in sides_of(settings):
            missing = [name for name in bone_map.bone_names(side).values() if name not in settings.target.data.bones]
            if missing:
                raise CaptureSetupError(f"armature '{settings.target.name}' has no bone '{missing[0]}' that the "
                                        f"{bone_map.name} preset needs for the {side} hand: pick the preset that "
                                        "matches the rig, or a custom map")


def capture_request(context, settings, preferences) -> dict:
    job = uuid.uuid4().hex[:8]
    folder = Path(tempfile.mkdtemp(prefix=f"maskhand-{job}-"))
    request = {"job": job, "video": str(Path(bpy.path.abspath(settings.footage)).resolve()),
               "output": str(folder / "capture.npz"), "frame_start": settings.frame_start,
               "frame_end": settings.frame_end or None, "hands": settings.hands.lower(), "max_hands": settings.max_hands,
               "samples": settings.samples, "iterations": settings.iterations,
               "temporal": hypotheses_differ(settings.samples, settings.iterations),
               "device": preferences.device.lower(), "mirrored": settings.mirrored}
    if preferences.checkpoint:
        request["checkpoint"] = bpy.path.abspath(preferences.checkpoint)
    if preferences.mano_folder:
        request["mano_folder"] = bpy.path.abspath(preferences.mano_folder)
    return request


@dataclass
class CapturePlan:
    """What to do with a result, fixed when the capture starts: edits in the panel meanwhile do not change it."""

    sides: list
    bone_map: BoneMap
    build_hands: bool        # the MaskHand Hand preset: build a hand for a side the target lacks
    target_name: str | None
    footage: str | None      # absolute path, or None
    frame_start: int
    mirrored: bool
    add_camera: bool
    every_track: bool = False  # key further tracks too (the headless job), not only those named right and left


def capture_plan(context, settings) -> CapturePlan:
    footage = str(Path(bpy.path.abspath(settings.footage)).resolve()) if settings.footage else None
    return CapturePlan(sides_of(settings), bone_map_of(settings), settings.preset == "BUILTIN",
                       settings.target.name if settings.target else None, footage, settings.frame_start,
                       settings.mirrored, settings.add_camera)


def _hand_target(context, target, bone_map: BoneMap, build_hand: bool, track: str) -> HandTarget:
    """With the MaskHand Hand preset (``build_hand``), a new built-in hand where ``target`` lacks the track's side."""
    side = track_side(track)
    if build_hand and (target is None or bone_name("wrist", side) not in target.data.bones):
        target = add_hand(context, side, f"MaskHand {track_label(track)}")
    return HandTarget(target, bone_map, standalone=build_hand)


def apply_capture(context, plan: CapturePlan, result_path: str, request: dict | None = None) -> str:
    """Key the result onto the targets (new actions), add the reference camera and remember the result (with its
    further tracks, to key from the panel) as the last capture; returns a one-line summary."""
    capture = read_capture(result_path)
    target = bpy.data.objects.get(plan.target_name) if plan.target_name else None
    if plan.target_name and target is None:
        raise CaptureSetupError(f"target armature '{plan.target_name}' is gone: choose a target and capture again")
    further = [track for track in capture.hands if track not in plan.sides]
    wanted = plan.sides + further if plan.every_track else plan.sides
    found = [track for track in wanted if track in capture.hands and capture.hands[track].valid.any()]
    missing = [side for side in plan.sides if side not in found]
    footage = plan.footage or str(result_path)
    summaries = import_capture(context, capture, {
        track: _hand_target(context, target, plan.bone_map, plan.build_hands, track) for track in found},
        footage, request)
    if plan.add_camera and plan.footage and Path(plan.footage).is_file():
        add_reference_camera(context, capture, plan)
    listed = [track for track in further if track not in found]
    if summaries:
        parts = [f"{s['track']} hand on '{s['rig']}' ({s['frames']} frames, {len(s['bones'])} bones"
                 + (f", {s['missing_frames']} without a hand" if s["missing_frames"] else "") + ")" for s in summaries]
        summary = "keyed " + "; ".join(parts) + "".join(f"; {side} hand not found" for side in missing)
    else:
        summary = "no hands were found in the footage; nothing was keyed"
    if listed:
        summary += f"; further tracks to key from Last Capture: {', '.join(listed)}"
    _remember_capture(context.scene.maskhand, capture, listed, summary, footage, request)
    return summary


def _remember_capture(settings, capture: Capture, listed: list, summary: str, footage: str,
                     request: dict | None) -> None:
    """The panel's Last Capture: the result, its summary, and the tracks the capture did not key."""
    settings.last_result, settings.last_summary = str(capture.path), summary
    settings.last_source = json.dumps({"footage": footage, "request": request or {}})
    settings.tracks.clear()
    for track in listed:
        item = settings.tracks.add()
        hand = capture.hands[track]
        item.name, item.frames_found, item.mean_score = track, hand.frames_found, hand.mean_score
    settings.active_track = 0


def key_further_track(context, settings) -> str:
    """Key the track chosen under Last Capture onto the Track Target as a new action, with the panel's rig preset
    (the MaskHand Hand preset without a target builds a hand); returns a one-line summary."""
    if not settings.last_result:
        raise CaptureSetupError("no capture yet: capture footage or import a result, then pick one of its tracks")
    if not 0 <= settings.active_track < len(settings.tracks):
        raise CaptureSetupError("no track chosen: pick one in the list under Last Capture")
    track = settings.tracks[settings.active_track].name
    capture = read_capture(bpy.path.abspath(settings.last_result))
    hand = capture.hands.get(track)
    if hand is None:
        raise CaptureSetupError(f"track '{track}' is not in '{capture.path}' any more: capture the footage again")
    if not hand.valid.any():
        raise CaptureSetupError(f"track '{track}' has no frame with a hand; there is nothing to key")
    bone_map = bone_map_of(settings)
    build_hand = settings.preset == "BUILTIN"
    if settings.track_target is None and not build_hand:
        raise CaptureSetupError(f"the {bone_map.name} preset needs an armature to key track '{track}' onto: "
                                "choose one in Track Target under Last Capture")
    source = json.loads(settings.last_source or "{}")
    target = _hand_target(context, settings.track_target, bone_map, build_hand, track)
    (keyed,) = import_capture(context, capture, {track: target}, source.get("footage") or str(capture.path),
                              source.get("request"))
    return (f"keyed {track} hand on '{keyed['rig']}' as '{keyed['action']}' ({keyed['frames']} frames, "
            f"{len(keyed['bones'])} bones)")


def add_reference_camera(context, capture, plan: CapturePlan) -> bpy.types.Object:
    """A camera that sees what the footage's camera saw, with the footage as its background."""
    width, height = capture.image_size
    camera_data = bpy.data.cameras.new(f"{Path(plan.footage).stem} Camera")
    camera_data.sensor_fit = "HORIZONTAL" if width >= height else "VERTICAL"
    camera_data.sensor_width = camera_data.sensor_height = 36.0
    camera_data.lens = capture.focal / max(width, height) * 36.0
    camera_data.clip_end = 1000.0
    clip = bpy.data.movieclips.load(plan.footage, check_existing=True)
    # Footage frame F shows on scene frame start + F - Start (exact when the footage and scene rates match).
    clip.frame_start = context.scene.frame_start - plan.frame_start
    background = camera_data.background_images.new()
    background.source, background.clip = "MOVIE_CLIP", clip
    background.use_flip_x = plan.mirrored  # results refer to the un-mirrored image
    camera_data.show_background_images = True
    camera = bpy.data.objects.new(camera_data.name, camera_data)
    # The capture's camera frame, seen in Blender: OpenCV (x right, y down, z forward) turned into Z-up.
    camera.rotation_euler = (CAMERA_TO_WORLD_EULER[0] + np.pi, 0.0, 0.0)
    context.collection.objects.link(camera)
    return camera


def check_backend(preferences) -> tuple:
    folder, python = backend_paths(preferences)
    try:
        check_backend_setup(python, folder)
    except BackendError as error:
        raise CaptureSetupError(str(error)) from None
    return folder, python
