"""Imports go one way: the add-on's ui -> blender -> core, and the backend's service never reaches into tooling.

- ``maskhand_blender/core`` is bpy-free: it imports neither Blender's modules nor the add-on's bpy packages, so
  it is tested without Blender and imports on the backend's Python.
- ``maskhand_blender/blender`` changes the scene and never imports ``ui``.
- In ``backend/``, only ``backend/training`` may import ``backend.training``; nothing in the backend imports the
  command line (``backend.__main__``), ``tools`` or ``bench``.

The rules are read from the source (``ast``), so a lazy import inside a function counts as much as one at the top.
"""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
ADDON = "maskhand_blender"
# Blender's own Python modules: none of them exists outside Blender.
BLENDER_MODULES = ("bpy", "bpy_extras", "bpy_types", "mathutils", "gpu", "gpu_extras", "blf", "bmesh", "bl_math",
                   "bl_ui", "bl_operators", "addon_utils", "idprop", "imbuf", "aud", "freestyle")
ADDON_BPY_PACKAGES = (f"{ADDON}.blender", f"{ADDON}.ui", f"{ADDON}.registration")
TOOLING = ("backend.training", "backend.__main__", "tools", "bench")


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, root: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in ``path``; relative imports resolved against its package.
    ``from package import name`` yields both ``package`` and ``package.name``, since the name may be a module."""
    module = module_name(path, root)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[:len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            found.append((node.lineno, base))
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names if alias.name != "*"]
    return found


def within(name: str, prefixes) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


def import_violations(root: Path) -> list[str]:
    """Every import in the tree under ``root`` that breaks the rules above, as 'file:line imports module (why)'."""
    rules = [  # (files whose module name starts with, forbidden imports, why)
        (f"{ADDON}.core", BLENDER_MODULES + ADDON_BPY_PACKAGES, "the add-on's core is bpy-free"),
        (f"{ADDON}.blender", (f"{ADDON}.ui",), "blender/ sits below ui/"),
        ("backend", TOOLING, "the backend's runtime does not depend on tooling"),
    ]
    violations = []
    for path in sorted(root.rglob("*.py")):
        module = module_name(path, root)
        for owner, forbidden, why in rules:
            if not within(module, (owner,)) or (owner == "backend" and within(module, ("backend.training",))):
                continue
            lines = {}  # one report per import statement: its first forbidden name
            for line, name in imported_modules(path, root):
                if within(name, forbidden):
                    lines.setdefault(line, f"{path.relative_to(root)}:{line} imports {name} ({why})")
            violations += lines.values()
    return violations


def test_the_project_keeps_its_import_direction():
    assert (REPO / ADDON / "core").is_dir() and (REPO / "backend" / "training").is_dir()
    assert import_violations(REPO) == []


@pytest.mark.parametrize("path, source, expected", [
    (f"{ADDON}/core/sneaky.py", "def f():\n    from mathutils import Matrix\n", "imports mathutils"),
    (f"{ADDON}/core/climbs.py", "from .. import blender\n", f"imports {ADDON}.blender"),
    (f"{ADDON}/blender/upward.py", "from ..ui.panels import Panel\n", f"imports {ADDON}.ui.panels ("),
    ("backend/capture/tooled.py", "from ..training.evaluate import evaluate\n", "imports backend.training.evaluate ("),
    ("backend/maskhand/cli.py", "import backend.__main__\n", "imports backend.__main__"),
])
def test_the_checker_catches_an_import_against_the_direction(tmp_path, path, source, expected):
    for package in Path(path).parents:
        if str(package) != ".":
            (tmp_path / package).mkdir(parents=True, exist_ok=True)
            (tmp_path / package / "__init__.py").touch()
    (tmp_path / path).write_text(source)
    violations = import_violations(tmp_path)
    assert len(violations) == 1 and path in violations[0] and expected in violations[0], violations


def test_the_checker_lets_training_import_training_and_ui_import_core(tmp_path):
    for path, source in (("backend/training/train.py", "from .stages import fit\nfrom ..maskhand import model\n"),
                         (f"{ADDON}/ui/panels.py", "import bpy\nfrom ..core import frames\nfrom ..blender import rig\n")):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(source)
    assert import_violations(tmp_path) == []


def test_every_core_module_imports_where_blender_cannot_be_imported():
    """Imported in a fresh interpreter whose import system refuses Blender's modules, whatever this one has."""
    modules = sorted(module_name(path, REPO) for path in (REPO / ADDON / "core").rglob("*.py"))
    assert len(modules) > 5, modules
    script = (f"import sys, importlib\n"
              f"for name in {BLENDER_MODULES!r}:\n    sys.modules[name] = None  # import raises ImportError\n"
              f"for module in {modules!r}:\n    importlib.import_module(module)\n"
              f"loaded = sorted(name for name in sys.modules if name.startswith({ADDON + '.'!r}))\n"
              f"print('\\n'.join(loaded))\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert result.returncode == 0, result.stderr
    loaded = result.stdout.split()
    assert set(modules) <= set(loaded) and not [name for name in loaded if within(name, ADDON_BPY_PACKAGES)], loaded
