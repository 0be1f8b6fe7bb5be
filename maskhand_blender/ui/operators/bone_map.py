"""The custom bone map in the panel: fill it from a preset, load it from JSON, save it as JSON."""
from __future__ import annotations

import bpy
from bpy_extras.io_utils import ImportHelper

from ...blender.settings import PRESET_FILES, bone_map_of, fill_custom_map
from ...core.bone_maps import builtin_preset, load_bone_map, save_bone_map
from ..reports import USER_ERRORS, report_outcome


class MASKHAND_OT_bone_map_from_preset(bpy.types.Operator):
    """Fill the custom bone map from a preset, to edit it for your rig"""

    bl_idname = "maskhand.bone_map_from_preset"
    bl_label = "Start From Preset"
    bl_options = {"REGISTER", "UNDO"}

    preset: bpy.props.EnumProperty(name="Preset", items=[(key, key.title(), "") for key in PRESET_FILES])

    def execute(self, context):
        fill_custom_map(context.scene.maskhand, builtin_preset(PRESET_FILES[self.preset]))
        return {"FINISHED"}


class MASKHAND_OT_load_bone_map(bpy.types.Operator, ImportHelper):
    """Load a bone map saved as JSON into the custom map"""

    bl_idname = "maskhand.load_bone_map"
    bl_label = "Load Bone Map"
    bl_options = {"REGISTER", "UNDO"}

    filter_glob: bpy.props.StringProperty(default="*.json", options={"HIDDEN"})

    def execute(self, context):
        return report_outcome(self, lambda: fill_custom_map(context.scene.maskhand, load_bone_map(self.filepath)))


class MASKHAND_OT_save_bone_map(bpy.types.Operator):
    """Save the custom bone map as JSON, to use it again or share it"""

    bl_idname = "maskhand.save_bone_map"
    bl_label = "Save Bone Map"

    filepath: bpy.props.StringProperty(subtype="FILE_PATH")
    filter_glob: bpy.props.StringProperty(default="*.json", options={"HIDDEN"})

    def invoke(self, context, event):
        if not self.filepath:
            self.filepath = "bone_map.json"
        context.window_manager.fileselect_add(self)
        return {"RUNNING_MODAL"}

    def execute(self, context):
        settings = context.scene.maskhand
        if settings.preset != "CUSTOM":
            self.report({"ERROR"}, "choose the Custom Map preset to edit and save a bone map")
            return {"CANCELLED"}
        return report_outcome(
            self, lambda: f"saved bone map to '{save_bone_map(bone_map_of(settings), bpy.path.abspath(self.filepath))}'",
            failure="bone map not saved: ", errors=USER_ERRORS + (OSError,))


classes = (MASKHAND_OT_bone_map_from_preset, MASKHAND_OT_load_bone_map, MASKHAND_OT_save_bone_map)
