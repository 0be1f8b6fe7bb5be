"""Build the installable extension zip with Blender's own tool, then validate it.

    python build.py [--output-dir dist]

The zip holds ``maskhand_blender/`` as the package root plus ``blender_manifest.toml``, and the backend
it starts (BUNDLED), so an installed zip needs no checkout.
Blender's extension CLI (``blender_ext.py``) ships inside the ``bpy`` wheel; it is run
as a script, so building does not start Blender.
"""
from __future__ import annotations

import argparse
import importlib.util
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent
PACKAGE_DIR = ROOT / "maskhand_blender"
MANIFEST = ROOT / "blender_manifest.toml"
# Files of the package that run only from a checkout, left out of the zip: the headless main job
# (`python -m maskhand_blender capture`) renders the sample clip with tools/ and checks paths with backend/.
CHECKOUT_ONLY = ("__main__.py",)
# What the backend needs that is ours, carried in the zip beside the add-on: the code and default weights,
# the bootstrap that makes its environment, and the pinned requirements it installs.
BUNDLED = ("backend", "tools/bootstrap.py", "requirements/backend.txt", "requirements/onnxruntime-cpu.txt",
           "requirements/onnxruntime-gpu.txt")
# Left out of the bundle: the training side (the capture service never imports it) and the regression
# baseline's weights (tests and benches only).
BUNDLE_LEFT_OUT = ("backend/training", "backend/weights/baseline")


def bundle_ignore(folder: str, names: list[str]) -> set[str]:
    """``shutil.copytree``'s ignore for BUNDLED folders: compiled files, and the BUNDLE_LEFT_OUT paths."""
    here = Path(folder).relative_to(ROOT)
    return {name for name in names
            if name == "__pycache__" or name.endswith(".pyc") or (here / name).as_posix() in BUNDLE_LEFT_OUT}


class BuildError(Exception):
    pass


def blender_ext_tool() -> Path:
    """Path of Blender's ``blender_ext.py`` inside the installed ``bpy`` package."""
    spec = importlib.util.find_spec("bpy")
    if spec is None or spec.origin is None:
        raise BuildError("the bpy package is not installed in this Python: run `python3.11 tools/bootstrap.py` "
                         "and build with .venv/bin/python")
    found = sorted(Path(spec.origin).parent.glob("*/scripts/addons_core/bl_pkg/cli/blender_ext.py"))
    if not found:
        raise BuildError(f"Blender's extension tool was not found under {Path(spec.origin).parent}")
    return found[-1]


def run_tool(*args: str) -> None:
    result = subprocess.run([sys.executable, str(blender_ext_tool()), *args], capture_output=True, text=True)
    print(result.stdout, end="")
    if result.returncode != 0:
        raise BuildError(f"blender_ext.py {args[0]} failed:\n{result.stdout}{result.stderr}")


def build(output_dir: Path) -> Path:
    """Stage the package with its manifest, build the zip and validate it; returns the zip's path."""
    manifest = tomllib.loads(MANIFEST.read_text())
    output_dir.mkdir(parents=True, exist_ok=True)
    zip_path = output_dir / f"{manifest['id']}-{manifest['version']}.zip"
    with tempfile.TemporaryDirectory() as staging:
        source = Path(staging) / manifest["id"]
        shutil.copytree(PACKAGE_DIR, source, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", *CHECKOUT_ONLY))
        shutil.copy2(MANIFEST, source / MANIFEST.name)
        for name in BUNDLED:
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            if (ROOT / name).is_dir():
                shutil.copytree(ROOT / name, source / name, ignore=bundle_ignore)
            else:
                shutil.copy2(ROOT / name, source / name)
        run_tool("build", "--source-dir", str(source), "--output-filepath", str(zip_path))
    run_tool("validate", str(zip_path))
    return zip_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output-dir", type=Path, default=ROOT / "dist")
    args = parser.parse_args(argv)
    try:
        zip_path = build(args.output_dir)
    except BuildError as error:
        print(f"build.py: {error}", file=sys.stderr)
        return 1
    print(f"build.py: built and validated {zip_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
