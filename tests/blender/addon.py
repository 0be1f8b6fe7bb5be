"""Shared by the scripts in tests/blender: install the built extension zip into real Blender and import it."""
import importlib
import json
import os
import sys

import bpy

MODULE = "bl_ext.user_default.maskhand"


def install(zip_path: str):
    """Install and enable the zip (BLENDER_USER_RESOURCES points at an empty folder); return the package."""
    result = bpy.ops.extensions.package_install_files(filepath=zip_path, repo="user_default", enable_on_install=True)
    assert result == {"FINISHED"}, result
    return importlib.import_module(MODULE)


def submodule(name: str):
    return importlib.import_module(f"{MODULE}.{name}")


def report(value) -> None:
    """The script's result, and its last act: it leaves at once. Blender 4.5 as a module can deadlock in a
    static destructor at exit (its delayed-close thread; seen after Rigify generates a rig), so the
    process ends without running destructors once the result is out."""
    print("RESULT " + json.dumps(value), flush=True)
    sys.stderr.flush()
    os._exit(0)
