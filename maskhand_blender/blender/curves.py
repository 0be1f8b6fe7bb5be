"""A captured hand's curves on an armature, as numpy arrays: read, and written back in bulk.

The capture writes, per bone, four ``rotation_quaternion`` F-curves and a
``["maskhand_uncertainty"]`` curve, and on the armature a ``["maskhand_detected_<track>"]`` flag
keyed on every captured frame; this module finds them in the armature's action (its slot's
channelbag) so the cleanup operators can work on arrays.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import bpy
import numpy as np

from .keyframes import curve_keys, set_curve_keys
from .keying import DETECTED_PROPERTY, UNCERTAINTY_PROPERTY

ROTATION = re.compile(r'^pose\.bones\["(.+)"\]\.rotation_quaternion$')
UNCERTAINTY = re.compile(r'^pose\.bones\["(.+)"\]\["' + UNCERTAINTY_PROPERTY + r'"\]$')


class NoCaptureError(Exception):
    """The armature has no MaskHand capture to clean up."""


def channelbag_of(rig: bpy.types.Object):
    animation = rig.animation_data if rig is not None else None
    if animation is None or animation.action is None or animation.action_slot is None:
        raise NoCaptureError(f"'{rig.name if rig else None}' has no capture action: capture first, or select the "
                             "captured armature")
    for layer in animation.action.layers:
        for strip in layer.strips:
            bag = strip.channelbag(animation.action_slot)
            if bag is not None:
                return bag
    raise NoCaptureError(f"action '{animation.action.name}' holds no curves for '{rig.name}'")


def _unescape(name: str) -> str:
    """The inverse of bpy.utils.escape_identifier, for bone names read back from data paths."""
    return re.sub(r"\\(.)", r"\1", name)


@dataclass
class HandCurves:
    rig: bpy.types.Object
    rotations: dict = field(default_factory=dict)     # bone -> [w, x, y, z curves]
    uncertainty: dict = field(default_factory=dict)   # bone -> curve
    detected: object = None                           # the flag curve (keys on every captured frame)

    @classmethod
    def of(cls, rig: bpy.types.Object) -> "HandCurves":
        bag = channelbag_of(rig)
        found = cls(rig)
        for curve in bag.fcurves:
            if match := ROTATION.match(curve.data_path):
                found.rotations.setdefault(_unescape(match[1]), [None] * 4)[curve.array_index] = curve
            elif match := UNCERTAINTY.match(curve.data_path):
                found.uncertainty[_unescape(match[1])] = curve
            elif curve.data_path.startswith('["' + DETECTED_PROPERTY.split("{")[0]):
                found.detected = curve
        found.rotations = {bone: curves for bone, curves in found.rotations.items() if None not in curves}
        if not found.rotations or found.detected is None:
            raise NoCaptureError(f"'{rig.name}' plays action '{rig.animation_data.action.name}', which is not a "
                                 "MaskHand capture: select the captured armature")
        return found

    def grid(self) -> tuple:
        """(frames (N,), found (N,) bool): every captured frame and whether a hand was found there."""
        frames, flags = curve_keys(self.detected)
        return frames, flags > 0.5

    def uncertainty_at(self, frames: np.ndarray, found: np.ndarray) -> tuple:
        """(bones list, (N, B) degrees at ``frames``; frames without a hand get 0)."""
        bones = list(self.rotations)
        values = np.zeros((len(frames), len(bones)))
        for column, bone in enumerate(bones):
            curve = self.uncertainty.get(bone)
            if curve is not None:
                values[:, column] = [curve.evaluate(frame) if ok else 0.0 for frame, ok in zip(frames, found)]
        return bones, values

    def quaternions(self, bone: str) -> tuple:
        """(frames (K,), quaternions (K, 4)) keyed for ``bone``."""
        curves = self.rotations[bone]
        frames, _ = curve_keys(curves[0])
        return frames, np.stack([curve_keys(curve)[1] for curve in curves], 1)

    def set_quaternions(self, bone: str, frames: np.ndarray, quaternions: np.ndarray) -> None:
        for component, curve in enumerate(self.rotations[bone]):
            set_curve_keys(curve, frames, quaternions[:, component])
