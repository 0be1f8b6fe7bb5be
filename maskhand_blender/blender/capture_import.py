"""Key a capture result onto armatures: one new action per hand track, nothing the user had is changed.

Each track gets its own action, named after the footage and the track. Where two go onto one armature
(a character's two hands), the first plays as the armature's action and the second as an NLA strip
below it: the two touch different bones, so both play, and each stays a separate action to edit.
(Two tracks of one side on one armature touch the same bones: the action on top wins.)
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import bpy

from ..core.bone_maps import BoneMap
from ..core.hand_data import load_hand_rest
from ..core.result_file import Capture, track_label
from .keying import key_hand, scene_mapping


@dataclass
class HandTarget:
    rig: bpy.types.Object
    bone_map: BoneMap
    standalone: bool = False  # a hand of its own (the built-in one): it also follows the capture's translation


CAPTURE_PROPERTY = "maskhand_capture"  # on each action: where it came from, for re-sampling a span


def import_capture(context: bpy.types.Context, capture: Capture, targets: dict, footage: str, request: dict | None = None) -> list:
    """targets: track name -> HandTarget; ``footage`` names the actions (and, with the backend ``request``, lets
    a span be re-sampled later). Returns one summary dict per keyed track."""
    summaries, playing = [], set()
    for track, target in targets.items():
        hand = capture.hands.get(track)
        if hand is None:
            continue
        mapping = scene_mapping(context.scene, capture.fps, int(hand.frames[0]))
        frames = mapping.to_scene(hand.frames)
        name = f"{Path(footage).stem} {track_label(track)} Hand"
        summary = key_hand(target.rig, hand, target.bone_map, load_hand_rest(hand.side), frames, name,
                           key_location=target.standalone)
        writer = summary.pop("writer")
        writer.action[CAPTURE_PROPERTY] = json.dumps({
            "footage": footage, **mapping.source_fields(), "track": track, "bone_map": target.bone_map.to_json(),
            "request": request or {}})
        if target.rig.name in playing:
            nla_track = target.rig.animation_data.nla_tracks.new()
            nla_track.name = name
            strip = nla_track.strips.new(name, int(frames[0]), writer.action)
            strip.action_slot = writer.slot
        else:
            writer.assign(target.rig)
            playing.add(target.rig.name)
        summaries.append({"track": track, "rig": target.rig.name, "action": writer.action.name, **summary})
    return summaries
