"""Registering the add-on with Blender: one list of classes, the scene's properties, handlers and menus."""

import bpy

from . import panels, preferences, properties
from .cleanup import display as cleanup_display
from .cleanup import operators as cleanup_operators
from .cleanup import panel as cleanup_panel
from .cleanup import properties as cleanup_properties
from .operators import backend, bone_map, capture, rig

_classes = (
    preferences.MaskHandPreferences,
    properties.MaskHandBoneMapEntry,
    properties.MaskHandTrack,
    properties.MaskHandCaptureSettings,
    properties.MaskHandJobState,
    *capture.classes,
    *bone_map.classes,
    *rig.classes,
    *backend.classes,
    *panels.classes,
    cleanup_properties.MaskHandSpan,
    cleanup_properties.MaskHandCleanupSettings,
    *cleanup_operators.classes,
    *cleanup_panel.classes,
)


def register():
    for cls in _classes:
        bpy.utils.register_class(cls)
    bpy.types.Scene.maskhand = bpy.props.PointerProperty(type=properties.MaskHandCaptureSettings)
    bpy.types.Scene.maskhand_cleanup = bpy.props.PointerProperty(type=cleanup_properties.MaskHandCleanupSettings)
    bpy.types.WindowManager.maskhand_job = bpy.props.PointerProperty(type=properties.MaskHandJobState)
    bpy.app.handlers.load_post.append(cleanup_display.on_file_load)
    bpy.types.VIEW3D_MT_armature_add.append(rig.menu_add_hand)


def unregister():
    bpy.types.VIEW3D_MT_armature_add.remove(rig.menu_add_hand)
    capture.stop_live_sessions()
    bpy.app.handlers.load_post.remove(cleanup_display.on_file_load)
    cleanup_display.set_colour_handler(False)
    del bpy.types.WindowManager.maskhand_job
    del bpy.types.Scene.maskhand_cleanup
    del bpy.types.Scene.maskhand
    for cls in reversed(_classes):
        bpy.utils.unregister_class(cls)
