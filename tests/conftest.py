"""Shared test fixtures: paths, the shared real-photo data, running real Blender."""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real test photographs not found at {SHARED_DATA} (../shared/data is absent on this machine)")
    return SHARED_DATA


def needs_blender() -> None:
    """Skip where this environment has no Blender module (the Python 3.13 backend environment: bpy 5.0.1 is
    Python 3.11's). Looked up, not imported: test processes never import bpy."""
    if importlib.util.find_spec("bpy") is None:
        pytest.skip("bpy (real Blender as a module) is not installed in this environment")


@pytest.fixture(scope="session")
def built_extension(tmp_path_factory) -> Path:
    """The extension zip, built and validated by build.py with Blender's own tool."""
    needs_blender()
    import build

    return build.build(tmp_path_factory.mktemp("dist"))


@pytest.fixture(scope="session")
def sample_clip(tmp_path_factory) -> Path:
    """The project's own footage: the built-in hand rendered by Blender (tools/sample_clip.py), with truth beside it.

    Rendered in its own process, so this test process never imports bpy."""
    needs_blender()
    out = tmp_path_factory.mktemp("sample_clip") / "hand.mp4"
    subprocess.run([sys.executable, str(REPO / "tools" / "sample_clip.py"), str(out), "--frames", "16"],
                   check=True, capture_output=True, timeout=600)
    return out


def run_blender_script(script: Path, *args: str, user_resources: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run ``script`` in a fresh Python with real Blender (``bpy``), isolated user resources."""
    needs_blender()
    env = {**os.environ, "BLENDER_USER_RESOURCES": str(user_resources), "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=REPO)
