"""Retarget presets: bone maps as data (JSON), one per rig family, plus maps the user saves.

A map names, for each of the 16 MANO joints, the bone that follows it, with ``{side}`` where
the rig spells the side ("R" / "L" for Rigify, "Right" / "Left" for Mixamo). ``key_wrist`` says
whether the hand bone takes the capture's wrist rotation (a standalone hand) or keeps its own
(a character whose arm places the hand). bpy-free.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from .hand_data import joint_names

FORMAT, VERSION = "maskhand-bone-map", 1
PRESET_FOLDER = Path(__file__).resolve().parent.parent / "data" / "bone_maps"
BUILTIN_PRESETS = ("builtin", "rigify", "mixamo")
JOINTS = tuple(joint_names())  # the 16 MANO joints, in MANO order


class BoneMapError(ValueError):
    """A bone map file that cannot be used; the message names the file and what to fix."""


@dataclass
class BoneMap:
    name: str
    bones: dict                       # joint name -> bone name pattern with {side}
    sides: dict = field(default_factory=lambda: {"right": "R", "left": "L"})
    key_wrist: bool = False
    description: str = ""

    def bone_names(self, side: str) -> dict:
        """{joint index: bone name} for one hand side; joints mapped to "" are left out."""
        spelled = self.sides[side]
        return {JOINTS.index(joint): pattern.replace("{side}", spelled)
                for joint, pattern in self.bones.items() if pattern}

    def to_json(self) -> str:
        return json.dumps({"format": FORMAT, "version": VERSION, "name": self.name, "description": self.description,
                           "sides": self.sides, "key_wrist": self.key_wrist, "bones": self.bones}, indent=2) + "\n"


def load_bone_map(path: str | Path) -> BoneMap:
    path = Path(path)
    try:
        text = path.read_bytes()
    except FileNotFoundError:
        raise BoneMapError(f"bone map '{path}' not found: choose a saved map or a preset") from None
    return bone_map_from_json(text, path, path.stem)


def bone_map_from_json(text: str | bytes, where, default_name: str = "") -> BoneMap:
    """The bone map ``BoneMap.to_json`` wrote (bytes: UTF-8); ``where`` names its file, or what holds it, in
    messages."""
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise BoneMapError(f"bone map '{where}' is not valid JSON ({error}): save the map again from the "
                           "panel") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise BoneMapError(f"'{where}' is not a MaskHand bone map (no \"format\": \"{FORMAT}\")")
    if data.get("version") != VERSION:
        raise BoneMapError(f"bone map '{where}' has version {data.get('version')}; this add-on reads {VERSION}")
    bones = data.get("bones")
    unknown = sorted(set(bones or {}) - set(JOINTS)) if isinstance(bones, dict) else None
    if unknown is None or unknown:
        raise BoneMapError(f"bone map '{where}': \"bones\" must map joint names ({', '.join(JOINTS)}) to bone names"
                           + (f"; unknown joints {unknown}" if unknown else ""))
    sides = data.get("sides", {"right": "R", "left": "L"})
    if set(sides) != {"right", "left"}:
        raise BoneMapError(f"bone map '{where}': \"sides\" must spell both \"right\" and \"left\"")
    return BoneMap(name=str(data.get("name", default_name)), bones=dict(bones), sides=dict(sides),
                   key_wrist=bool(data.get("key_wrist", False)), description=str(data.get("description", "")))


def builtin_preset(name: str) -> BoneMap:
    return load_bone_map(PRESET_FOLDER / f"{name}.json")


def save_bone_map(bone_map: BoneMap, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(bone_map.to_json(), encoding="utf-8")
    return path
