"""Re-sample a span: run the backend again on just those footage frames, with more samples and the
temporal mode, and replace the keys of that span only."""
from __future__ import annotations

import json
import tempfile
import uuid
from pathlib import Path

import bpy
import numpy as np

from ..capture_import import CAPTURE_PROPERTY
from ..capture_setup import STEERED_ITERATIONS, addon_preferences
from ..hand_data import load_hand_rest
from ..result_file import ResultFileError, nearest_track, read_capture, track_side
from ..retarget.apply import hand_keys
from ..retarget.presets import BoneMap
from ..retarget.rotations import continuous_quaternions
from .curves import HandCurves, NoCaptureError, curve_keys, set_curve_keys

RESAMPLE_SAMPLES = 32


def capture_source(rig) -> dict:
    action = rig.animation_data.action
    if CAPTURE_PROPERTY not in action:
        raise NoCaptureError(f"action '{action.name}' does not say which footage it came from (captured by an older "
                             "version, or imported by hand): capture the footage again to re-sample it")
    return json.loads(action[CAPTURE_PROPERTY])


def resample_request(context, rig, span) -> tuple:
    """(backend request, apply(context, result_path) -> summary) for one span of ``rig``'s capture."""
    source = capture_source(rig)
    track = source.get("track") or source["side"]  # actions keyed before tracks had names stored their side
    side = track_side(track)
    if not Path(source["footage"]).is_file():
        raise NoCaptureError(f"footage '{source['footage']}' of this capture is gone: put it back to re-sample")
    ratio = source["fps"] / source["scene_fps"]
    to_footage = lambda frame: source["first_frame"] + int(round((frame - source["scene_start"]) * ratio))  # noqa: E731
    first, last = to_footage(span.frame_start), to_footage(span.frame_end)
    base = source.get("request") or {}
    preferences = addon_preferences(context)
    job = uuid.uuid4().hex[:8]
    request = {**{k: v for k, v in base.items() if k in ("checkpoint", "mano_folder", "mirrored", "max_hands")},
               "iterations": max(STEERED_ITERATIONS, int(base.get("iterations", 5))),  # so the hypotheses differ
               "job": job, "video": source["footage"],
               "output": str(Path(tempfile.mkdtemp(prefix=f"maskhand-{job}-")) / "span.npz"),
               "frame_start": first, "frame_end": last + 1, "hands": side,
               "samples": max(RESAMPLE_SAMPLES, int(base.get("samples", 8))), "temporal": True,
               "device": preferences.device.lower()}
    span_start, span_end, rig_name = span.frame_start, span.frame_end, rig.name
    bone_map_data = json.loads(source["bone_map"])

    def apply(context, result_path):
        rig = bpy.data.objects.get(rig_name)
        if rig is None:
            raise NoCaptureError(f"armature '{rig_name}' is gone; nothing was re-sampled")
        capture = read_capture(result_path)
        original = _captured_hand(base.get("output"), track)
        if original is not None:
            hand = nearest_track([h for h in capture.hands.values() if h.side == side], original)
        elif track == side:  # the capture's result file is gone: the span's first hand of the side
            hand = capture.hands.get(track)
        else:
            raise NoCaptureError(f"the capture's result file '{base.get('output')}' is gone, and without it the "
                                 f"span's hands cannot be told apart to find '{track}': capture the footage again")
        if hand is None or not hand.valid.any():
            return "the re-sampled span has no hand; nothing changed"
        bone_map = BoneMap(bone_map_data["name"], bone_map_data["bones"], bone_map_data["sides"],
                           bone_map_data["key_wrist"])
        frames = source["scene_start"] + (hand.frames - source["first_frame"]) / ratio
        keys = hand_keys(rig, hand, bone_map, load_hand_rest(side))
        curves = HandCurves.of(rig)
        for bone, (quaternions, uncertainty) in keys.items():
            old_frames, old = curves.quaternions(bone)
            keep = (old_frames < span_start - 1e-3) | (old_frames > span_end + 1e-3)
            merged = np.concatenate([old_frames[keep], frames[hand.valid]])
            order = np.argsort(merged)
            values = continuous_quaternions(np.concatenate([old[keep], quaternions])[order])
            curves.set_quaternions(bone, merged[order], values)
            if bone in curves.uncertainty:
                _replace_span(curves.uncertainty[bone], frames[hand.valid], uncertainty, span_start, span_end)
        _replace_span(curves.detected, frames, hand.valid.astype(float), span_start, span_end, "CONSTANT")
        return (f"re-sampled frames {span_start:.0f}-{span_end:.0f} ({int(hand.valid.sum())} with a hand, "
                f"{request['samples']} samples, temporal) on {len(keys)} bones of '{rig.name}'")

    return request, apply


def _captured_hand(result_path: str | None, track: str):
    """The track as the capture found it (its result file, while it exists), or None."""
    if not result_path or not Path(result_path).is_file():
        return None
    try:
        return read_capture(result_path).hands.get(track)
    except ResultFileError:
        return None


def _replace_span(curve, frames, values, start, end, interpolation: str = "BEZIER") -> None:
    old_frames, old_values = curve_keys(curve)
    keep = (old_frames < start - 1e-3) | (old_frames > end + 1e-3)
    merged = np.concatenate([old_frames[keep], frames])
    order = np.argsort(merged)
    set_curve_keys(curve, merged[order], np.concatenate([old_values[keep], values])[order], interpolation)
