"""The add-on's bpy-free parts: bone-map presets, the result reader, the capture job's protocol handling."""
import json

import numpy as np
import pytest

from backend.result import empty_side, write_result
from maskhand_blender.backend_client import PROTOCOL_VERSION, CaptureJob, check_backend_setup, BackendError
from maskhand_blender.result_file import ResultFileError, read_capture
from maskhand_blender.retarget.presets import (BUILTIN_PRESETS, JOINTS, BoneMapError, builtin_preset, load_bone_map,
                                               save_bone_map)


@pytest.mark.parametrize("name", BUILTIN_PRESETS)
def test_every_preset_names_a_bone_for_every_joint_on_both_sides(name):
    preset = builtin_preset(name)
    for side in ("right", "left"):
        names = preset.bone_names(side)
        assert sorted(names) == list(range(16)) and len(set(names.values())) == 16
        assert not any("{side}" in bone for bone in names.values())
    assert builtin_preset("rigify").bone_names("left")[JOINTS.index("index1")] == "f_index.01.L"
    assert builtin_preset("mixamo").bone_names("right")[JOINTS.index("thumb3")] == "mixamorig:RightHandThumb3"


def test_bone_map_files_round_trip_and_bad_ones_are_named(tmp_path):
    path = save_bone_map(builtin_preset("mixamo"), tmp_path / "map.json")
    assert load_bone_map(path) == builtin_preset("mixamo")
    with pytest.raises(BoneMapError, match="'.*missing.json' not found"):
        load_bone_map(tmp_path / "missing.json")
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(BoneMapError, match="broken.json' is not valid JSON"):
        load_bone_map(tmp_path / "broken.json")
    (tmp_path / "other.json").write_text(json.dumps({"bones": {}}))
    with pytest.raises(BoneMapError, match="not a MaskHand bone map"):
        load_bone_map(tmp_path / "other.json")
    data = json.loads(path.read_text())
    data["bones"]["elbow"] = "x"
    (tmp_path / "unknown.json").write_text(json.dumps(data))
    with pytest.raises(BoneMapError, match="unknown joints \\['elbow'\\]"):
        load_bone_map(tmp_path / "unknown.json")


def test_the_add_on_reads_what_the_backend_writes(tmp_path):
    frames = np.arange(5, 9)
    right = empty_side(frames)
    right["valid"][1:] = True
    right["hand_pose"][:, 2, 1] = 0.5
    right["uncertainty"][:] = 7.0
    path = write_result(tmp_path / "r.npz", {"right": right}, 25.0, (640, 480), 12500.0, "maskhand-k", "1")
    capture = read_capture(path)
    hand = capture.hands["right"]
    assert capture.fps == 25.0 and capture.image_size == (640, 480) and list(capture.hands) == ["right"]
    assert hand.pose.shape == (4, 16, 3) and hand.pose[0, 3, 1] == 0.5 and list(hand.frames) == [5, 6, 7, 8]
    assert hand.valid.tolist() == [False, True, True, True] and hand.uncertainty.shape == (4, 16)
    arrays = dict(np.load(path))
    arrays["schema_version"] = np.int64(2)
    np.savez(tmp_path / "future.npz", **arrays)
    with pytest.raises(ResultFileError, match="schema 2; this add-on reads schema 1"):
        read_capture(tmp_path / "future.npz")
    with pytest.raises(ResultFileError, match="not found"):
        read_capture(tmp_path / "none.npz")
    (tmp_path / "text.npz").write_text("no")
    with pytest.raises(ResultFileError, match="not a MaskHand capture result"):
        read_capture(tmp_path / "text.npz")


class FakeBackend:
    log_path = "backend.log"

    def __init__(self):
        self.sent = []

    def send(self, message):
        self.sent.append(message)


def message(kind, **fields):
    return {"type": kind, "protocol": PROTOCOL_VERSION, **fields}


def test_capture_job_follows_the_protocol():
    backend = FakeBackend()
    job = CaptureJob(backend, {"job": "a1", "video": "v.mp4", "output": "o.npz"})
    job.handle(message("hello"))
    assert backend.sent == [{"type": "capture", "job": "a1", "video": "v.mp4", "output": "o.npz"}]
    job.handle(message("progress", job="a1", stage="capturing", fraction=0.5))
    job.handle(message("progress", job="other", stage="capturing", fraction=0.9))   # another job's: ignored
    job.handle(message("warning", job="a1", code="no_hands", message="no hands found"))
    assert (job.state, job.fraction, job.warnings) == ("running", 0.5, ["no hands found"])
    job.cancel()
    assert backend.sent[-1] == {"type": "cancel", "job": "a1"}
    job.handle(message("error", job="a1", code="cancelled", message="cancelled"))
    assert job.state == "cancelled" and job.finished


@pytest.mark.parametrize("event, expected", [
    (message("error", job="a1", code="not_a_video", message="'v.mp4' is not a video", hint="re-encode it"),
     "'v.mp4' is not a video (re-encode it)"),
    ({"type": "garbage", "line": "Segmentation fault"}, "not protocol: 'Segmentation fault'"),
    ({"type": "exited", "returncode": -9}, "stopped unexpectedly (exit code -9)"),
])
def test_capture_job_failures_become_one_message(event, expected):
    job = CaptureJob(FakeBackend(), {"job": "a1"})
    job.handle(message("hello"))
    job.handle(event)
    assert job.state == "failed" and expected in job.error


def test_a_backend_speaking_another_protocol_is_refused():
    backend = FakeBackend()
    job = CaptureJob(backend, {"job": "a1"})
    job.handle({"type": "hello", "protocol": 2})
    assert job.state == "failed" and "protocol 2" in job.error and backend.sent == []


def test_backend_setup_errors_name_the_setting(tmp_path):
    with pytest.raises(BackendError, match="Backend Folder"):
        check_backend_setup("/usr/bin/python3", tmp_path)
    (tmp_path / "backend").mkdir()
    (tmp_path / "backend" / "__main__.py").write_text("")
    with pytest.raises(BackendError, match="Backend Python not found at '/nope/python'"):
        check_backend_setup("/nope/python", tmp_path)
