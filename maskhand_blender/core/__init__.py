"""The add-on's bpy-free core: the backend's protocol and capture job, requests, frame mapping, result files,
retarget math and cleanup math. Nothing here imports Blender or the add-on's bpy packages (``blender``, ``ui``),
so it is tested without Blender and imports on the backend's Python (tests/test_import_direction.py)."""
