"""Output paths a user may get wrong: each gets its error code and a message naming the path, before
any work, and nothing is left behind (docs/bad_inputs.md rows 26-30). Checked in the module, through
the backend's command line, and through the headless main job."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from backend.capture.outputs import StagedOutputs, check_output
from backend.capture.protocol import ProtocolError
from tests.conftest import REPO, needs_blender
from tests.footage import write_video


@pytest.fixture
def clip(tmp_path) -> Path:
    path = tmp_path / "clip.mp4"
    write_video(path, [np.full((48, 64, 3), 90, np.uint8)] * 3)
    return path


def unwritable_folder(tmp_path: Path) -> Path:
    """A folder this process cannot create files in: read-only for a user; root ignores modes, so /proc for root."""
    if os.geteuid() == 0:
        return Path("/proc")
    folder = tmp_path / "read_only"
    folder.mkdir()
    folder.chmod(0o500)
    return folder


def cases(tmp_path: Path, clip: Path) -> dict:
    """case -> (the -o text, the code it must get)."""
    (tmp_path / "folder").mkdir()
    (tmp_path / "a_file").write_text("in the way")
    return {
        "existing folder": (str(tmp_path / "folder"), "output_is_folder"),
        "trailing slash": (str(tmp_path / "new_folder") + "/", "output_is_folder"),
        "missing parent": (str(tmp_path / "missing" / "result.npz"), "output_folder_missing"),
        "parent is a file": (str(tmp_path / "a_file" / "result.npz"), "output_folder_missing"),
        "unwritable": (str(unwritable_folder(tmp_path) / "result.npz"), "output_unwritable"),
        "the footage itself": (str(clip), "output_is_input"),
    }


def listing(folder: Path) -> set:
    return {str(path.relative_to(folder)) for path in folder.rglob("*")}


@pytest.mark.parametrize("case", ["existing folder", "trailing slash", "missing parent", "parent is a file",
                                  "unwritable", "the footage itself"])
def test_each_bad_output_path_gets_its_code(tmp_path, clip, case):
    text, code = cases(tmp_path, clip)[case]
    with pytest.raises(ProtocolError) as caught:
        check_output(text, "output", inputs=(str(clip),))
    assert caught.value.code == code
    assert text.rstrip("/") in caught.value.message and caught.value.hint


def test_the_footage_is_recognised_through_another_spelling_of_its_path(tmp_path, clip):
    (tmp_path / "link.mp4").symlink_to(clip)
    for spelling in (str(tmp_path / "link.mp4"), str(tmp_path / "folder" / ".." / "clip.mp4")):
        (tmp_path / "folder").mkdir(exist_ok=True)
        with pytest.raises(ProtocolError, match="footage itself"):
            check_output(spelling, "output", inputs=(str(clip),))


def test_a_good_path_passes_and_the_check_leaves_nothing(tmp_path, clip):
    before = listing(tmp_path)
    assert check_output(str(tmp_path / "result.npz"), "output", inputs=(str(clip),)) == tmp_path / "result.npz"
    assert listing(tmp_path) == before


def test_staged_outputs_land_together_or_not_at_all(tmp_path):
    outputs = StagedOutputs({"output": str(tmp_path / "a.npz"), "preview": str(tmp_path / "a.png"), "unused": None})
    with outputs:
        outputs.path("output").write_bytes(b"result")
        outputs.path("preview").write_bytes(b"picture")
        assert listing(tmp_path) == {".a.partial.npz", ".a.partial.png"}
    assert listing(tmp_path) == {"a.npz", "a.png"} and outputs.path("unused") is None

    failing = StagedOutputs({"output": str(tmp_path / "b.npz"), "preview": str(tmp_path / "b.png")})
    with pytest.raises(RuntimeError):
        with failing:
            failing.path("output").write_bytes(b"result")
            raise RuntimeError("the job failed half way")
    assert listing(tmp_path) == {"a.npz", "a.png"}

    with pytest.raises(ProtocolError) as caught:
        StagedOutputs({"output": str(tmp_path / "c.npz"), "preview": str(tmp_path / "c.npz")})
    assert caught.value.code == "bad_request" and "same file" in caught.value.message


def test_an_output_whose_move_fails_leaves_nothing(tmp_path):
    outputs = StagedOutputs({"output": str(tmp_path / "a.npz"), "preview": str(tmp_path / "a.png")})
    with pytest.raises(ProtocolError) as caught:
        with outputs:
            outputs.path("output").write_bytes(b"result")
            (tmp_path / "a.png").mkdir()  # made in the way after the check: the second move fails
    assert caught.value.code == "output_unwritable"
    assert listing(tmp_path) == {"a.png"}  # the folder put in the way; nothing of the job's


@pytest.mark.parametrize("case", ["existing folder", "trailing slash", "missing parent", "unwritable",
                                  "the footage itself"])
def test_the_command_line_names_the_bad_output_and_leaves_nothing(tmp_path, clip, case):
    text, code = cases(tmp_path, clip)[case]
    before = listing(tmp_path)
    completed = subprocess.run([sys.executable, "-m", "backend", "capture", str(clip), "-o", text], cwd=REPO,
                               capture_output=True, text=True, timeout=120)
    assert completed.returncode == 2, completed.stderr
    assert f"error [{code}]" in completed.stderr and "Traceback" not in completed.stderr
    assert listing(tmp_path) == before


@pytest.mark.slow
@pytest.mark.blender
def test_the_main_job_names_a_bad_output_before_blender_starts(tmp_path, clip):
    needs_blender()
    text, code = cases(tmp_path, clip)["existing folder"]
    before = listing(tmp_path)
    completed = subprocess.run([sys.executable, "-m", "maskhand_blender", "capture", str(clip), "-o", text,
                                "--preview", str(tmp_path / "missing" / "preview.png")], cwd=REPO,
                               capture_output=True, text=True, timeout=120)
    assert completed.returncode == 2 and f"error [{code}]" in completed.stderr, completed.stderr
    assert len(completed.stderr.splitlines()) == 2 and listing(tmp_path) == before
