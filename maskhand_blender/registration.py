"""Registering the add-on with Blender: one list of classes, the scene's properties, handlers and menus."""

import bpy

from .ui import cleanup_panel, cleanup_properties, display, panels, preferences, properties, session
from .ui.operators import backend, bone_map, capture, cleanup, rig

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
    *cleanup.classes,
    *cleanup_panel.classes,
)


def register():
    for cls in _classes:
        bpy.utils.register_class(cls)
    bpy.types.Scene.maskhand = bpy.props.PointerProperty(type=properties.MaskHandCaptureSettings)
    bpy.types.Scene.maskhand_cleanup = bpy.props.PointerProperty(type=cleanup_properties.MaskHandCleanupSettings)
    bpy.types.WindowManager.maskhand_job = bpy.props.PointerProperty(type=properties.MaskHandJobState)
    bpy.app.handlers.load_post.append(display.on_file_load)
    bpy.types.VIEW3D_MT_armature_add.append(rig.menu_add_hand)


def unregister():
    bpy.types.VIEW3D_MT_armature_add.remove(rig.menu_add_hand)
    session.stop_live_sessions()
    bpy.app.handlers.load_post.remove(display.on_file_load)
    display.set_colour_handler(False)
    del bpy.types.WindowManager.maskhand_job
    del bpy.types.Scene.maskhand_cleanup
    del bpy.types.Scene.maskhand
    for cls in reversed(_classes):
        bpy.utils.unregister_class(cls)
