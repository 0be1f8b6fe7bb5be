"""Run by tests/test_extension.py: the zip as an animator installs it, into a fresh Blender user folder,
run from a folder with no MaskHand checkout in reach. Create Backend Environment (the operator is a thin
shell over ``EnvironmentJob``, driven here the way its timer does), then a capture of the sample clip
through the panel's capture session with the bundled backend. argv: zip, clip. Prints one JSON line.
"""
import importlib.util
import sys
import time
from pathlib import Path

import bpy

from addon import install, report, submodule

zip_path, clip = sys.argv[1:3]
results = {"checkout_in_reach": importlib.util.find_spec("backend") is not None}
install(zip_path)
environment = submodule("blender.backend_environment")
preferences = bpy.context.preferences.addons["bl_ext.user_default.maskhand"].preferences
folder, python = environment.backend_paths(preferences)
results.update(backend_folder=folder, backend_python=python, python_before=Path(python).is_file())

job = environment.EnvironmentJob(folder)  # Blender's own Python makes it (as a module: this interpreter)
statuses, deadline = [], time.monotonic() + 1500
while (outcome := job.poll()) is None:
    assert time.monotonic() < deadline, "the environment was not made in time"
    if job.status() not in statuses:
        statuses.append(job.status())
    time.sleep(0.5)
results.update(environment=outcome, statuses=statuses, python_after=Path(python).is_file())

bpy.ops.wm.read_homefile(use_factory_startup=True)
preferences.device = "CPU"
settings = bpy.context.scene.maskhand
settings.footage, settings.hands, settings.samples, settings.iterations = clip, "RIGHT", 2, 2
session = submodule("ui.operators.capture").capture_session(bpy.context)
deadline = time.monotonic() + 600
while not session.step(bpy.context):
    assert time.monotonic() < deadline, "the capture did not end"
    time.sleep(0.05)
level, message, outcome = session.finish(bpy.context)
results["capture"] = {"level": level, "message": message, "outcome": outcome}
results["keyed"] = sorted(action.name for action in bpy.data.actions)
report(results)
