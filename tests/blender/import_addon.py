"""Run by tests/test_extension.py: import and register the add-on in a clean interpreter,
then report which heavy backend packages ended up imported (there must be none)."""
import json
import sys

import bpy  # noqa: F401  (Blender first, as inside Blender itself)

import maskhand_blender

maskhand_blender.register()
maskhand_blender.unregister()
heavy = ("torch", "smplx", "cv2", "mediapipe", "onnxruntime", "backend")
print("RESULT " + json.dumps(sorted(name for name in sys.modules if name.split(".")[0] in heavy)))
