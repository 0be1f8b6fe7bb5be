"""Re-sample a span: run the backend again on just those footage frames, with more samples and the
temporal choice, and replace the keys of that span only."""
from __future__ import annotations

import json
from pathlib import Path

import bpy
import numpy as np

from ..core.bone_maps import bone_map_from_json
from ..core.frames import FrameMapping
from ..core.hand_data import load_hand_rest
from ..core.requests import span_request
from ..core.result_file import ResultFileError, nearest_track, read_capture, track_side
from ..core.rotations import continuous_quaternions
from .capture_import import CAPTURE_PROPERTY
from .curves import HandCurves, NoCaptureError
from .keyframes import curve_keys, set_curve_keys
from .keying import hand_keys
from .settings import addon_preferences


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
    mapping = FrameMapping.of_source(source)
    base = source.get("request") or {}
    request = span_request(base, source["footage"], mapping.to_footage(span.frame_start),
                           mapping.to_footage(span.frame_end) + 1, side, addon_preferences(context).device.lower())
    span_start, span_end, rig_name = span.frame_start, span.frame_end, rig.name
    bone_map = bone_map_from_json(source["bone_map"], f"capture source of action '{rig.animation_data.action.name}'")

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
        frames = mapping.to_scene(hand.frames)
        keys = hand_keys(rig, hand, bone_map, load_hand_rest(side))
        curves = HandCurves.of(rig)
        for bone, (quaternions, uncertainty) in keys.items():
            merged, values = _merged(*curves.quaternions(bone), frames[hand.valid], quaternions, span_start, span_end)
            curves.set_quaternions(bone, merged, continuous_quaternions(values))
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


def _merged(old_frames, old_values, frames, values, start, end) -> tuple:
    """(frames, values): the old keys outside the span [start, end] and the new ones, in frame order. Frames
    (N,), values (N,) for a curve or (N, 4) for a bone's quaternions."""
    keep = (old_frames < start - 1e-3) | (old_frames > end + 1e-3)
    merged = np.concatenate([old_frames[keep], frames])
    order = np.argsort(merged)
    return merged[order], np.concatenate([old_values[keep], values])[order]


def _replace_span(curve, frames, values, start, end, interpolation: str = "BEZIER") -> None:
    set_curve_keys(curve, *_merged(*curve_keys(curve), frames, values, start, end), interpolation)
