"""The add-on's bpy-free parts: bone-map presets, the result reader, the capture job's protocol handling."""
import json

import numpy as np
import pytest

from maskhand_blender.backend_client import PROTOCOL_VERSION, CaptureJob, check_backend_setup, BackendError
from maskhand_blender.result_file import (HandCapture, ResultFileError, nearest_track, read_capture, track_label,
                                         track_side)
from maskhand_blender.retarget.presets import (BUILTIN_PRESETS, JOINTS, BoneMapError, builtin_preset, load_bone_map,
                                               save_bone_map)
from tests.result_files import track_arrays, write_result_file


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


def test_a_schema_2_result_reads_every_track_with_its_name_side_and_summary(tmp_path):
    frames = np.arange(5, 9)
    path = write_result_file(tmp_path / "r.npz", {
        "right": track_arrays(frames, [False, True, True, True], score=0.9, bend=0.5),
        "left": track_arrays(frames, [True, True, False, False], score=0.8),
        "right_2": track_arrays(frames, [False, False, True, True], score=0.6)})
    capture = read_capture(path)
    assert list(capture.hands) == ["right", "left", "right_2"]          # file order
    assert [(hand.name, hand.side) for hand in capture.hands.values()] == [
        ("right", "right"), ("left", "left"), ("right_2", "right")]
    assert [(hand.frames_found, round(hand.mean_score, 6)) for hand in capture.hands.values()] == [
        (3, 0.9), (2, 0.8), (2, 0.6)]
    assert capture.fps == 25.0 and capture.image_size == (640, 480)
    right = capture.hands["right"]
    assert right.pose.shape == (4, 16, 3) and right.pose[0, 1, 2] == 0.5 and list(right.frames) == [5, 6, 7, 8]
    assert right.valid.tolist() == [False, True, True, True] and right.uncertainty.shape == (4, 16)
    assert right.score.shape == (4,)


def test_the_mean_score_counts_only_frames_with_a_hand():
    score = np.array([0.1, 0.7, 0.9])
    hand = HandCapture("left_3", np.arange(3), np.array([False, True, True]), np.zeros((3, 16, 3)), np.zeros((3, 3)),
                       np.zeros((3, 16)), np.zeros((3, 21, 2)), score)
    assert hand.side == "left" and hand.frames_found == 2 and hand.mean_score == pytest.approx(0.8)
    hand.valid[:] = False
    assert hand.mean_score == 0.0


@pytest.mark.parametrize("name, side", [("right", "right"), ("left", "left"), ("right_2", "right"),
                                        ("left_12", "left")])
def test_a_track_side_is_its_name_before_the_number(name, side):
    assert track_side(name) == side
    assert track_label(name) == name.replace("_", " ").capitalize()


@pytest.mark.parametrize("name", ["middle", "right2", "right_", "Right", "right_x"])
def test_a_track_name_that_is_not_a_side_is_refused(name, tmp_path):
    with pytest.raises(ValueError, match="not 'right' or 'left'"):
        track_side(name)
    path = write_result_file(tmp_path / "odd.npz", {name: track_arrays(np.arange(2), [True, True])})
    with pytest.raises(ResultFileError, match=f"odd.npz' holds a track named '{name}'.*damaged"):
        read_capture(path)


def test_a_schema_1_result_still_reads(tmp_path):
    frames = np.arange(3)
    path = write_result_file(tmp_path / "v1.npz", {"left": track_arrays(frames, [True, False, True], score=0.5),
                                                    "right": track_arrays(frames, [True, True, True])},
                             schema_version=1)
    capture = read_capture(path)
    assert list(capture.hands) == ["left", "right"]
    assert [(hand.name, hand.side, hand.frames_found) for hand in capture.hands.values()] == [
        ("left", "left", 2), ("right", "right", 3)]
    assert capture.hands["left"].mean_score == pytest.approx(0.5)


def test_other_schemas_and_broken_files_are_refused_with_what_to_do(tmp_path):
    path = write_result_file(tmp_path / "future.npz", {"right": track_arrays(np.arange(2), [True, True])},
                             schema_version=3)
    with pytest.raises(ResultFileError, match="future.npz' has result schema 3; this add-on reads schema 1 and 2: "
                                              "update the add-on and the backend together"):
        read_capture(path)
    arrays = track_arrays(np.arange(2), [True, True])
    del arrays["score"]
    write_result_file(tmp_path / "short.npz", {"right": arrays})
    with pytest.raises(ResultFileError, match="lacks right/score: the file is incomplete; run the capture again"):
        read_capture(tmp_path / "short.npz")
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


def test_a_re_sampled_span_finds_the_captured_hand_by_where_it_is_not_by_its_name(tmp_path):
    # The capture's right_2 is the hand on the image's right; the span, captured afresh, names it "right".
    frames = np.arange(10)
    captured = write_result_file(tmp_path / "capture.npz", {
        "right": track_arrays(frames, [True] * 10), "right_2": track_arrays(frames, [True] * 10)})
    capture = read_capture(captured)
    spread = np.linspace(-40.0, 40.0, 21)[:, None]  # a hand 80 pixels across
    capture.hands["right"].keypoints2d[:] = np.array([100.0, 200.0]) + spread
    capture.hands["right_2"].keypoints2d[:] = np.array([500.0, 200.0]) + spread
    span = write_result_file(tmp_path / "span.npz", {
        "right": track_arrays(frames[4:7], [True] * 3), "right_2": track_arrays(frames[4:7], [True, False, True])})
    span_capture = read_capture(span)
    span_capture.hands["right"].keypoints2d[:] = [505.0, 198.0]
    span_capture.hands["right_2"].keypoints2d[:] = [96.0, 203.0]
    candidates = list(span_capture.hands.values())
    assert nearest_track(candidates, capture.hands["right_2"]).name == "right"
    assert nearest_track(candidates, capture.hands["right"]).name == "right_2"
    elsewhere = read_capture(write_result_file(tmp_path / "later.npz", {"right": track_arrays(frames + 50, [True] * 10)}))
    assert nearest_track(list(elsewhere.hands.values()), capture.hands["right"]) is None  # no frame in common
    # The span lost the hand and found another one, two hand sizes away: not the same hand.
    assert nearest_track([span_capture.hands["right"]], capture.hands["right"]) is None
