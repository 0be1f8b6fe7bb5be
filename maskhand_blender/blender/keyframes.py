"""Bulk F-curve writing: every key of a curve at once, into a new action (through the slotted-actions API,
Blender 4.4+: layers, strips, channelbags) or over a curve's keys (cleanup, re-sampling).

``keyframe_insert`` per key costs a lookup, an undo push and a handle update each time; a
capture is thousands of frames times dozens of channels. Here every F-curve gets all its keys
at once (``keyframe_points.add`` + ``foreach_set``) and its handles computed once.
``Action.fcurves`` is gone in Blender 5.0: curves live in a channelbag of a keyframe strip
of a layer, per slot (the slot says which data-block the curves animate).
"""
from __future__ import annotations

import bpy
import numpy as np


def curve_keys(curve) -> tuple:
    """(frames (K,), values (K,)) of an F-curve's keys."""
    coordinates = np.empty(2 * len(curve.keyframe_points), np.float32)
    curve.keyframe_points.foreach_get("co", coordinates)
    return coordinates[0::2].astype(np.float64), coordinates[1::2].astype(np.float64)


def set_curve_keys(curve, frames: np.ndarray, values: np.ndarray, interpolation: str = "BEZIER") -> None:
    """Replace every key of ``curve``: frames (K,), values (K,); handles computed once."""
    points = curve.keyframe_points
    points.clear()
    points.add(len(frames))
    coordinates = np.empty(2 * len(frames), np.float32)
    coordinates[0::2], coordinates[1::2] = frames, values
    points.foreach_set("co", coordinates)
    if len(frames):  # enum values go in as their index in the enum's items
        mode = points[0].bl_rna.properties["interpolation"].enum_items[interpolation].value
        points.foreach_set("interpolation", np.full(len(frames), mode, np.int32))
    curve.update()  # sorts the keys and computes every handle once


class ActionWriter:
    """A new action with one slot for ``target`` (an object); ``add_curve`` writes one channel."""

    def __init__(self, name: str, target: bpy.types.ID):
        self.action = bpy.data.actions.new(name)
        self.slot = self.action.slots.new(id_type=target.id_type, name=target.name)
        strip = self.action.layers.new("Capture").strips.new(type="KEYFRAME")
        self.channelbag = strip.channelbag(self.slot, ensure=True)

    def add_curve(self, data_path: str, index: int, frames: np.ndarray, values: np.ndarray, group: str = "",
                  interpolation: str = "BEZIER") -> bpy.types.FCurve:
        """One F-curve with a key per frame: frames (N,), values (N,)."""
        curve = self.channelbag.fcurves.new(data_path, index=index)
        if group:  # set, not passed to new(): Blender 4.5's fcurves.new() takes no group name
            curve.group = self.channelbag.groups.get(group) or self.channelbag.groups.new(group)
        set_curve_keys(curve, frames, values, interpolation)
        return curve

    def add_vector(self, data_path: str, frames: np.ndarray, values: np.ndarray, group: str = "",
                   interpolation: str = "BEZIER") -> list:
        """One F-curve per column of values (N, C)."""
        return [self.add_curve(data_path, column, frames, values[:, column], group, interpolation)
                for column in range(values.shape[1])]

    def assign(self, target: bpy.types.ID) -> None:
        """Make the action (and its slot) what ``target`` plays. What it played before moves to an NLA track
        underneath, so a character's own animation keeps playing for the bones the capture does not key."""
        animation = target.animation_data or target.animation_data_create()
        previous, previous_slot = animation.action, animation.action_slot
        if previous is not None:
            track = animation.nla_tracks.new()
            track.name = previous.name
            strip = track.strips.new(previous.name, int(previous.frame_range[0]), previous)
            if previous_slot is not None:
                strip.action_slot = previous_slot
        animation.action = self.action
        animation.action_slot = self.slot
