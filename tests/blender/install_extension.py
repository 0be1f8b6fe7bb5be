"""Run by tests/test_extension.py in a fresh Python with real Blender (bpy).

Installs the built zip into the user extension repository (BLENDER_USER_RESOURCES points
at an empty folder), then enables, disables and re-enables it. Prints one JSON line.
"""
import json
import sys

import bpy

import addon_utils  # importable once bpy is

MODULE = "bl_ext.user_default.maskhand"


def state():
    loaded_default, loaded_state = addon_utils.check(MODULE)
    return {"enabled": bool(loaded_state), "in_preferences": MODULE in bpy.context.preferences.addons}


steps = {}
result = bpy.ops.extensions.package_install_files(filepath=sys.argv[1], repo="user_default", enable_on_install=True)
steps["install"] = {"result": sorted(result), **state()}
steps["install"]["preferences_class"] = type(bpy.context.preferences.addons[MODULE].preferences).__name__
steps["disable"] = {"result": sorted(bpy.ops.preferences.addon_disable(module=MODULE)), **state()}
steps["enable"] = {"result": sorted(bpy.ops.preferences.addon_enable(module=MODULE)), **state()}
steps["device_default"] = bpy.context.preferences.addons[MODULE].preferences.device
print("RESULT " + json.dumps(steps))
