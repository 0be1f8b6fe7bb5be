"""Cleanup driven by uncertainty: bpy-free span finding and filters (``spans``, ``filters``), and the Blender side."""
