"""The add-on's scene changes and settings, over the bpy-free core: keying, curves, the capture's setup and
result, the reference camera, the rig, the backend's environment. Never imports ``ui``."""
