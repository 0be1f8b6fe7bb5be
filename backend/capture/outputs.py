"""The outputs stage: a job's output files, each path checked before any work, written under a temporary name
beside it (the result .npz, the preview), and moved into place only when the whole job succeeds, so a failed or
cancelled job leaves nothing.

bpy-free: the headless main job (maskhand_blender/__main__.py) checks its .blend and picture here too.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from .protocol import Cancelled, CaptureRequest, ProtocolError
from .result import write_result

if TYPE_CHECKING:  # torch and OpenCV: checking paths (the main job) needs neither
    from .estimation import PoseEstimator
    from .footage import Footage


def check_output(text: str, role: str, inputs: tuple = (), example: str = "result.npz") -> Path:
    """The file ``text`` names, if a job may write it; else ProtocolError with what to do.

    ``role`` names the setting in messages (``output``, ``preview``, ``-o``); ``inputs`` are files the job
    reads, which it must not overwrite; ``example`` is the file name suggested when a folder is given.
    Missing folders are not created: a typo in a folder name should not silently make a new tree."""
    path = Path(text).expanduser()
    if text.endswith(("/", os.sep)) or path.is_dir():
        raise ProtocolError("output_is_folder", f"the {role} '{text}' is a folder, not a file",
                            f"name a file in it, e.g. '{path / example}'")
    folder = path.absolute().parent
    if not folder.is_dir():
        what = "is a file, not a folder" if folder.exists() else "does not exist"
        raise ProtocolError("output_folder_missing", f"the folder '{folder}' of the {role} '{text}' {what}",
                            "create the folder first, or choose one that exists")
    for source in inputs:
        if source and _same_file(path, Path(source).expanduser()):
            raise ProtocolError("output_is_input", f"the {role} '{text}' is the footage itself; writing it "
                                "would destroy the footage", "choose another file name for the output")
    probe = folder / f".{path.name}.probe"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise ProtocolError("output_unwritable", f"cannot write the {role} '{path}': {error.strerror or error}",
                            "choose a folder you can write to") from None
    return path


def _same_file(a: Path, b: Path) -> bool:
    if a.exists() and b.exists():
        return os.path.samefile(a, b)
    return a.absolute() == b.absolute()


class StagedOutputs:
    """Output files written under temporary names (``.NAME.partial.EXT`` beside each), moved into place
    together on a clean exit of the ``with`` block and removed otherwise."""

    def __init__(self, named: dict[str, str | None], inputs: tuple = ()):
        """``named``: role -> path text (None: not asked for). Raises ProtocolError before anything is written."""
        self.final = {role: check_output(text, role, inputs) for role, text in named.items() if text}
        paths = list(self.final.values())
        clashing = [role for role, path in self.final.items() if paths.count(path) > 1]
        if clashing:
            raise ProtocolError("bad_request", f"{' and '.join(clashing)} name the same file "
                                f"'{self.final[clashing[0]]}'", "give each output its own file")
        self.temporary = {role: path.with_name(f".{path.stem}.partial{path.suffix}")
                          for role, path in self.final.items()}

    def path(self, role: str) -> Path | None:
        """Where to write ``role`` while the job runs (its temporary name), or None if it was not asked for."""
        return self.temporary.get(role)

    def __enter__(self):
        return self

    def __exit__(self, kind, error, trace):
        moved = []
        try:
            if kind is None:
                for role, temporary in self.temporary.items():
                    temporary.replace(self.final[role])
                    moved.append(self.final[role])
                return False
        except OSError as failure:  # the job's outputs land together or not at all
            error = failure
            for path in moved:
                path.unlink(missing_ok=True)
        for temporary in self.temporary.values():
            temporary.unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise ProtocolError("output_unwritable", f"cannot write the results: {error}",
                                "choose a folder with free space you can write to") from None
        return False


def write_outputs(outputs: StagedOutputs, request: CaptureRequest, footage: Footage, results: dict,
                  estimator: PoseEstimator, decoded: int, progress: Callable, cancelled: Callable[[], bool]) -> None:
    """Write the result (backend.capture.result) and, if asked for, the preview of the ``decoded`` frames from the
    request's start (backend.capture.preview), then move both into place. Raises Cancelled (leaving nothing)."""
    with outputs:
        write_result(outputs.path("output"), results, footage.fps, (footage.width, footage.height), footage.focal,
                     estimator.name, f"maskhand-checkpoint/{estimator.model.config.name}")
        if request.preview:
            progress(stage="preview", frame=decoded, total=decoded)
            from .preview import write_preview  # OpenCV and torch: the main job imports this module without them

            start = request.frame_start
            write_preview(outputs.path("preview"), footage, start, start + decoded, results, estimator.hands,
                          cancelled, request.mirrored)
            if cancelled():
                raise Cancelled()
