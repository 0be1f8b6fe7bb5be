"""MaskHand for Blender: hand motion capture from ordinary footage, keyed onto your rigs.

The heavy work (video decoding, hand detection, the MaskHand network) runs in a separate
backend process with its own Python environment; this package uses only bpy, numpy and
the standard library. Registration (``registration``) is one list of classes; it is imported
only when Blender registers the add-on, so the bpy-free core (``retarget``, ``result_file``,
``backend_client``, ``cleanup``'s math) imports without Blender, in tests and on the backend's Python.
"""

def register():
    from . import registration

    registration.register()


def unregister():
    from . import registration

    registration.unregister()
