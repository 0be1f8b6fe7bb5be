"""Create or update the project's Python environment, idempotently.

    python3.11 tools/bootstrap.py              # .venv: backend + Blender (bpy) + test tools
    python3.11 tools/bootstrap.py --backend-only --venv PATH   # the backend's own environment
    python3.13 tools/bootstrap.py --venv .venv313              # the same on Python 3.13 (bpy 5.3)
    python3.11 tools/bootstrap.py --venv .venv-blender45 --blender 4.5.15   # with Blender 4.5 LTS, no oracle

The backend runs on Python 3.11 and 3.13 (Blender's own Pythons). The dev environment adds Blender as a
module (requirements/blender.txt: 5.0.1 on 3.11, 5.3.0 on 3.13, or the version ``--blender`` names) and
mediapipe 0.10.21, the hand detector's test oracle (Python 3.12 at most: skipped by its markers
elsewhere, and the tests that need it skip).

Only the standard library is used, so any Python 3.11 can run it. A hash of the
requirement files and the chosen options is stored in the environment; when it
matches, nothing is installed and the script returns in well under a second.

GPU: with an NVIDIA driver present (``nvidia-smi`` answers) onnxruntime-gpu is
installed instead of onnxruntime. torch==2.13.0 from PyPI is already a CUDA build
on Linux; on this project's CPU machines pip takes the CPU wheel kept on disk.
"""
from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ROOT / "requirements"
STAMP_NAME = ".maskhand-requirements.sha256"
# Blender's Pythons: 3.11 (4.5 LTS, 5.0) and 3.13 (5.1 and later); the pinned wheels exist for both.
SUPPORTED_PYTHONS = ((3, 11), (3, 13))


def has_nvidia_gpu() -> bool:
    nvidia_smi = shutil.which("nvidia-smi")
    if nvidia_smi is None:
        return False
    return subprocess.run([nvidia_smi, "-L"], capture_output=True).returncode == 0


def venv_python(venv_dir: Path) -> Path:
    return venv_dir / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


def install_steps(backend_only: bool, gpu: bool, blender: str | None = None) -> list[tuple[list[str], Path | str]]:
    """(extra pip flags, requirement file or a requirement) in install order. ``blender``: a bpy version for
    an environment that tests the extension on that Blender (without the detector's oracle)."""
    onnxruntime = "onnxruntime-gpu.txt" if gpu else "onnxruntime-cpu.txt"
    steps = [([], REQUIREMENTS / "backend.txt"), ([], REQUIREMENTS / onnxruntime)]
    if not backend_only:
        steps.append(([], REQUIREMENTS / "dev.txt"))
        steps.append(([], f"bpy=={blender}") if blender else ([], REQUIREMENTS / "blender.txt"))
    if not (backend_only or blender):
        # The detector's test oracle, last and without its declared dependencies (see requirements/mediapipe.txt).
        steps.append(([], REQUIREMENTS / "mediapipe-deps.txt"))
        steps.append((["--no-deps"], REQUIREMENTS / "mediapipe.txt"))
    return steps


def requirements_hash(steps: list[tuple[list[str], Path | str]]) -> str:
    digest = hashlib.sha256(f"python {sys.version_info[:2]}\n".encode())
    for flags, source in steps:
        text = source.name + "\n" + source.read_text() if isinstance(source, Path) else source
        digest.update(" ".join(flags).encode() + b"\n" + text.encode() + b"\n")
    return digest.hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--venv", type=Path, default=ROOT / ".venv", help="environment folder (default: .venv)")
    parser.add_argument("--backend-only", action="store_true", help="only what the backend service needs")
    parser.add_argument("--gpu", choices=("auto", "yes", "no"), default="auto",
                        help="install onnxruntime-gpu (default: when nvidia-smi finds a GPU)")
    parser.add_argument("--blender", metavar="VERSION",
                        help="install this bpy (Blender) version instead of requirements/blender.txt's, and no oracle")
    args = parser.parse_args(argv)

    if sys.version_info[:2] not in SUPPORTED_PYTHONS:
        print(f"bootstrap: Python 3.11 or 3.13 is required (Blender's Pythons; the pins are for those); this is "
              f"{sys.version.split()[0]} at {sys.executable}. Run it as: python3.11 tools/bootstrap.py", file=sys.stderr)
        return 2

    gpu = has_nvidia_gpu() if args.gpu == "auto" else args.gpu == "yes"
    steps = install_steps(args.backend_only, gpu, args.blender)
    wanted = requirements_hash(steps)
    python = venv_python(args.venv)
    stamp = args.venv / STAMP_NAME
    if python.exists() and stamp.exists() and stamp.read_text().strip() == wanted:
        print(f"bootstrap: {args.venv} is up to date")
        return 0

    if not python.exists():
        print(f"bootstrap: creating {args.venv}")
        venv.EnvBuilder(with_pip=True, clear=args.venv.exists()).create(args.venv)
    stamp.unlink(missing_ok=True)  # an interrupted install must not look finished
    for flags, source in steps:
        what = ["-r", str(source.relative_to(ROOT))] if isinstance(source, Path) else [source]
        print(f"bootstrap: pip install {' '.join(flags + what)}")
        # --no-warn-conflicts: mediapipe's omitted dependencies are deliberate (tests/test_environment.py
        # checks with `pip check` that they are the only ones missing).
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        "--no-warn-conflicts", *flags, *what], check=True, cwd=ROOT)
    stamp.write_text(wanted + "\n")
    print(f"bootstrap: {args.venv} is ready ({'GPU' if gpu else 'CPU'} onnxruntime"
          f"{', backend only' if args.backend_only else ''}{f', Blender {args.blender}' if args.blender else ''})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
