"""The README's main job, as a new user runs it: the sample clip in, a keyed .blend and a picture out,
a short terminal log, and nothing else left in the output folder."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from backend.capture.result import read_result
from backend.metrics import bend_angles_deg
from tests.conftest import REPO, needs_blender

pytestmark = pytest.mark.blender

MOST_LINES = 20


@pytest.mark.slow
def test_the_main_job_is_quiet_and_leaves_only_what_was_asked_for(tmp_path):
    needs_blender()
    out = tmp_path / "out"
    out.mkdir()
    completed = subprocess.run([sys.executable, "-m", "maskhand_blender", "capture", "-o", str(out / "capture.blend"),
                                "--preview", str(out / "preview.png")], cwd=REPO, capture_output=True, text=True,
                               timeout=900)
    assert completed.returncode == 0, completed.stderr[-3000:]
    lines = (completed.stdout + completed.stderr).splitlines()
    assert len(lines) < MOST_LINES, "\n".join(lines)
    assert not any("Saved:" in line or "Warning" in line or "reloading" in line for line in lines), "\n".join(lines)
    assert lines[-1].startswith("done in") and "keyed right hand" in completed.stderr
    assert sorted(path.name for path in out.iterdir()) == ["capture.blend", "preview.png"]


@pytest.mark.slow
def test_the_capture_reads_each_gesture_of_the_sample_clip(tmp_path):
    """The picture's keyed hand must make the footage's gesture: at each gesture's own frame of the sample
    clip (open, fist, point, peace, open), every finger but the thumb is read as curled or extended as it is."""
    needs_blender()
    from maskhand_blender.__main__ import sample_clip

    clip = sample_clip()
    completed = subprocess.run([sys.executable, "-m", "backend", "capture", str(clip), "-o", str(tmp_path / "r.npz"),
                                "--hands", "right"], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr[-2000:]
    hand, truth = read_result(tmp_path / "r.npz")["right"], np.load(clip.with_suffix(".truth.npz"))
    frames = len(truth["pose"])
    for key in range(5):  # the sequence reaches gesture `key` at this frame (tools/sample_clip.clip_poses)
        frame = round(key * (frames - 1) / 4)
        row = int(np.flatnonzero(hand["frames"] == frame)[0])
        assert hand["valid"][row], f"no hand found at frame {frame}"
        curled = [bend_angles_deg(points).reshape(5, 3)[1:].sum(1) > 100  # the four fingers' total bend
                  for points in (hand["joints3d"][row], truth["keypoints3d"][frame])]
        assert (curled[0] == curled[1]).all(), f"frame {frame}: read {curled[0]}, truth {curled[1]}"
