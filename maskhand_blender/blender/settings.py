"""What a capture needs from Blender's settings: the add-on's preferences, the panel's bone map, the checks made
before a capture starts, and the panel's request.

Shared by the operators and the headless job (``python -m maskhand_blender``). Nothing here changes the scene.
"""
from __future__ import annotations

from pathlib import Path

import bpy

from ..core.bone_maps import JOINTS, BoneMap, builtin_preset
from ..core.requests import capture_request
from ..core.retarget import HAND_FRAME_JOINTS
from .backend_environment import ADDON

PRESET_FILES = {"BUILTIN": "builtin", "RIGIFY": "rigify", "MIXAMO": "mixamo"}


class CaptureSetupError(Exception):
    """A setting that stops a capture before it starts; the message names it and what to do."""


def addon_preferences(context):
    return context.preferences.addons[ADDON].preferences


def path_setting(value: str) -> str:
    """A path setting made absolute (``//`` is the .blend's folder); "" when it is not set."""
    return bpy.path.abspath(value) if value else ""


def footage_path(settings) -> str:
    return str(Path(bpy.path.abspath(settings.footage)).resolve())


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


def check_settings(settings) -> None:
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


def panel_request(settings, preferences) -> dict:
    """The request for the panel's capture: samples and iterations 0 ask for the checkpoint's own."""
    return capture_request(footage_path(settings), frame_start=settings.frame_start, frame_end=settings.frame_end,
                           hands=settings.hands.lower(), max_hands=settings.max_hands, samples=settings.samples,
                           iterations=settings.iterations, temporal=settings.temporal,
                           device=preferences.device.lower(), mirrored=settings.mirrored,
                           checkpoint=path_setting(preferences.checkpoint),
                           mano_folder=path_setting(preferences.mano_folder))
