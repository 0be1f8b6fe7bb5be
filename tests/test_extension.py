"""The installable extension: built and validated with Blender's own tool, installed into
real Blender, enabled and disabled cleanly, and free of backend imports."""
import ast
import json
import zipfile
from pathlib import Path

import pytest

import build
from tests.conftest import REPO, run_blender_script

pytestmark = pytest.mark.blender

BLENDER_SCRIPTS = Path(__file__).parent / "blender"
BACKEND_PACKAGES = {"torch", "smplx", "cv2", "mediapipe", "onnxruntime", "backend"}


def result_line(completed):
    lines = [line for line in completed.stdout.splitlines() if line.startswith("RESULT ")]
    assert completed.returncode == 0 and lines, f"stdout:\n{completed.stdout}\nstderr:\n{completed.stderr}"
    return json.loads(lines[-1][len("RESULT "):])


def test_zip_holds_the_package_and_manifest(built_extension):
    with zipfile.ZipFile(built_extension) as archive:
        names = set(archive.namelist())
    assert {"blender_manifest.toml", "__init__.py", "registration.py", "core/requests.py", "ui/preferences.py",
            "data/bone_maps/builtin.json", "data/builtin_hand.npz"} <= names
    assert not any("__pycache__" in name for name in names)
    assert not set(build.CHECKOUT_ONLY) & names


@pytest.mark.slow
def test_installs_enables_disables_and_enables_again_in_blender(built_extension, tmp_path):
    completed = run_blender_script(BLENDER_SCRIPTS / "install_extension.py", str(built_extension),
                                   user_resources=tmp_path / "blender_user")
    steps = result_line(completed)
    assert steps["install"] == {"result": ["FINISHED"], "enabled": True, "in_preferences": True,
                                "preferences_class": "MaskHandPreferences"}
    assert steps["disable"] == {"result": ["FINISHED"], "enabled": False, "in_preferences": False}
    assert steps["enable"] == {"result": ["FINISHED"], "enabled": True, "in_preferences": True}
    assert steps["device_default"] == "AUTO"
    assert "Traceback" not in completed.stderr and "Error" not in completed.stderr, completed.stderr
    assert (tmp_path / "blender_user/extensions/user_default/maskhand/blender_manifest.toml").is_file()


def test_addon_imports_no_backend_package_in_a_clean_interpreter(tmp_path):
    imported = result_line(run_blender_script(BLENDER_SCRIPTS / "import_addon.py", user_resources=tmp_path))
    assert imported == []


def test_addon_sources_import_no_backend_package():
    """What the zip carries; the checkout-only main job may use the backend's path checks."""
    offenders = []
    for path in sorted((REPO / "maskhand_blender").rglob("*.py")):
        if path.name in build.CHECKOUT_ONLY and path.parent.name == "maskhand_blender":
            continue
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module]
            else:
                continue
            offenders += [f"{path.relative_to(REPO)}:{node.lineno} {name}" for name in names
                          if name.split(".")[0] in BACKEND_PACKAGES]
    assert offenders == []


@pytest.mark.slow
def test_the_zip_alone_makes_its_backend_environment_and_captures(built_extension, sample_clip, tmp_path):
    """No checkout in reach: the zip carries the backend; Create Backend Environment installs the pinned
    requirements from the package index into the extension's user folder; the panel's capture runs."""
    import os
    import subprocess
    import sys

    user = tmp_path / "blender_user"
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    completed = subprocess.run([sys.executable, str(BLENDER_SCRIPTS / "fresh_install.py"), str(built_extension),
                                str(sample_clip)], capture_output=True, text=True, timeout=2400, cwd=tmp_path,
                               env={**env, "BLENDER_USER_RESOURCES": str(user)})
    observed = result_line(completed)
    extension = user / "extensions" / "user_default" / "maskhand"
    assert not observed["checkout_in_reach"] and Path(observed["backend_folder"]) == extension
    python = Path(observed["backend_python"])
    assert python.is_relative_to(user / "extensions" / ".user" / "user_default" / "maskhand"), python
    assert not observed["python_before"] and observed["environment"] == "ready" and observed["python_after"]
    assert any("pip install" in status for status in observed["statuses"]), observed["statuses"]
    assert observed["capture"]["outcome"] == "FINISHED", observed["capture"]
    assert observed["keyed"], "nothing was keyed"
