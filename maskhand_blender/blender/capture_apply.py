"""What a capture does to the scene when it succeeds: key the result onto the targets, add the reference camera,
remember the result as the panel's Last Capture; and keying a further track of it later.

Shared by the modal Capture operator, the import operator and the headless job (``python -m maskhand_blender``).
``apply_capture`` runs only on success; ``key_further_track`` keys a track the capture left to the user.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import bpy

from ..core.bone_maps import BoneMap
from ..core.result_file import Capture, read_capture, track_label, track_side
from .camera import add_reference_camera
from .capture_import import HandTarget, import_capture
from .rig import add_hand, bone_name
from .settings import CaptureSetupError, bone_map_of, footage_path, sides_of


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


def capture_plan(settings) -> CapturePlan:
    footage = footage_path(settings) if settings.footage else None
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
        add_reference_camera(context, capture, plan.footage, plan.frame_start, plan.mirrored)
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
