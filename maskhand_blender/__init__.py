"""MaskHand for Blender: hand motion capture from ordinary footage, keyed onto your rigs.

The heavy work (video decoding, hand detection, the MaskHand network) runs in a separate
backend process with its own Python environment; this package uses only bpy, numpy and
the standard library. Registration is one list of classes; modules that do real work are
imported where they are used, so enabling the extension is instant.
"""
import bpy

from . import preferences

_classes = (
    preferences.MaskHandPreferences,
)


def register():
    for cls in _classes:
        bpy.utils.register_class(cls)


def unregister():
    for cls in reversed(_classes):
        bpy.utils.unregister_class(cls)
