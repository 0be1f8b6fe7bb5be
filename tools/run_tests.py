"""Set up and run every test: what CI runs (.ci/run), and the README's test command.

    python3.11 tools/run_tests.py [pytest arguments]

1. Python 3.11, ``.venv``: the backend, Blender 5.0.1 (bpy) and the legacy mediapipe oracle; all tests.
2. Python 3.13 (Blender 5.1 and later's Python), ``.venv313``: the backend and Blender 5.3.0; all tests
   but the mediapipe parity ones (no wheel for 3.13; they skip, saying why).
3. Python 3.11, ``.venv-blender45``: Blender 4.5 LTS; the tests that drive Blender (``-m blender``).

Standard library only. A missing Python 3.13 is an error (the backend must pass on it), unless
``--only-311`` is given (legs 1 and 3). The environments are made by tools/bootstrap.py and are idempotent.
"""
from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BLENDER_LTS = "4.5.15"  # the oldest Blender the extension supports (blender_manifest.toml's minimum)


def find_python(version: str) -> str | None:
    """An interpreter for ``version`` (e.g. "3.13"): on PATH, else one pyenv keeps (its shims may not expose it)."""
    found = shutil.which(f"python{version}")
    if found and subprocess.run([found, "-c", "pass"], capture_output=True).returncode == 0:
        return found
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates = sorted(glob.glob(str(pyenv / "versions" / f"{version}.*" / "bin" / f"python{version}")))
    return candidates[-1] if candidates else None


def run(*command: str) -> int:
    print("run_tests:", " ".join(command), flush=True)
    return subprocess.run(command, cwd=ROOT).returncode


def main(argv: list[str]) -> int:
    only_311 = "--only-311" in argv
    pytest_args = [arg for arg in argv if arg != "--only-311"]
    # (Python, environment, bootstrap options, pytest options)
    legs = [("3.11", ".venv", [], [])]
    if not only_311:
        legs.append(("3.13", ".venv313", [], []))
    legs.append(("3.11", ".venv-blender45", ["--blender", BLENDER_LTS], ["-m", "blender"]))
    for version, venv, bootstrap_args, leg_args in legs:
        python = sys.executable if sys.version_info[:2] == tuple(map(int, version.split("."))) else find_python(version)
        if python is None:
            print(f"run_tests: no Python {version} found (on PATH or under pyenv): install it, or pass --only-311",
                  file=sys.stderr)
            return 2
        code = run(python, "tools/bootstrap.py", "--venv", venv, *bootstrap_args) or \
            run(str(ROOT / venv / "bin" / "python"), "-m", "pytest", *leg_args, *pytest_args)
        if code:
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
