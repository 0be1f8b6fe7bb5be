"""MaskHand for Blender: hand motion capture from ordinary footage, keyed onto your rigs.

The heavy work (video decoding, hand detection, the MaskHand network) runs in a separate
backend process with its own Python environment; this package uses only bpy, numpy and
the standard library. Three packages, imports going one way: ``ui`` (properties, panels, operators)
over ``blender`` (scene changes and settings) over ``core`` (bpy-free: the protocol client and capture job,
requests, frame mapping, result files, retarget and cleanup math). Registration (``registration``) is one
list of classes; it is imported only when Blender registers the add-on, so the core imports without
Blender, in tests and on the backend's Python.
"""

def register():
    from . import registration

    registration.register()


def unregister():
    from . import registration

    registration.unregister()
