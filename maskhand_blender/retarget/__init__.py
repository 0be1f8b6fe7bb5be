"""Retargeting: bpy-free math and rig presets (``solve``, ``presets``), and the thin Blender layer (``apply``)."""
