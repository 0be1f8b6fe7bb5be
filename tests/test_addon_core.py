"""The add-on's bpy-free core: bone-map presets, the result reader, the capture job's protocol handling, requests,
the frame mapping and what the backend's hello says about sampling."""
import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from maskhand_blender.core.backend_client import PROTOCOL_VERSION, CaptureJob, check_backend_setup, BackendError
from maskhand_blender.core.bone_maps import (BUILTIN_PRESETS, JOINTS, BoneMapError, builtin_preset, load_bone_map,
                                            save_bone_map)
from maskhand_blender.core.frames import FrameMapping
from maskhand_blender.core.requests import RESAMPLE_SAMPLES, capture_request, span_request, still_request
from maskhand_blender.core.result_file import (HandCapture, ResultFileError, nearest_track, read_capture, track_label,
                                              track_side)
from maskhand_blender.core.backend_sampling import BackendSampling
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


# What a backend says in its hello about sampling: the checkpoint's own, and its rule for differing hypotheses.
HELLO_SAMPLING = {"sampling": {"samples": 8, "iterations": 5, "temperature": 1.5},
                  "differing_hypotheses": {"min_samples": 2, "min_iterations": 2}}


def backend_request_fields() -> set:
    """The fields the backend's request accepts, read from it now: a field added or renamed on either side fails."""
    from backend.capture.protocol import CaptureRequest

    return {field.name for field in dataclasses.fields(CaptureRequest)}


def accepted_by_backend(request: dict) -> bool:
    from backend.capture.protocol import CaptureRequest

    CaptureRequest.from_message({"type": "capture", "protocol": PROTOCOL_VERSION, **request})
    return set(request) <= backend_request_fields()


def test_a_request_leaves_out_samples_and_iterations_of_0_for_the_checkpoints_own(tmp_path):
    request = capture_request(str(tmp_path / "clip.mp4"), frame_start=3, frame_end=0, hands="right", max_hands=2,
                              samples=0, iterations=0, temporal=True, device="cpu", mirrored=False, checkpoint="",
                              mano_folder="")
    assert not {"samples", "iterations", "frame_end", "checkpoint", "mano_folder"} & set(request)
    assert (request["frame_start"], request["hands"], request["temporal"], request["mirrored"]) == (3, "right", True, False)
    assert Path(request["output"]).name == "capture.npz" and Path(request["output"]).parent.is_dir()
    assert accepted_by_backend(request)
    assert capture_request("v.mp4", temporal=False)["temporal"] is False  # False is a setting, not "left out"


def test_every_request_the_add_on_builds_names_only_fields_the_backend_accepts(tmp_path):
    panel = capture_request(str(tmp_path / "clip.mp4"), frame_start=3, frame_end=40, hands="both", max_hands=3,
                            samples=4, iterations=3, temporal=True, device="cpu", mirrored=True,
                            checkpoint=str(tmp_path / "ckpt"), mano_folder=str(tmp_path / "mano"))
    assert (panel["samples"], panel["iterations"], panel["frame_end"]) == (4, 3, 40)
    span = span_request(panel, panel["video"], 10, 15, "left", "auto")
    still = still_request(panel, 12, tmp_path)
    for request in (panel, span, still):
        assert accepted_by_backend(request), sorted(set(request) - backend_request_fields())
    assert (span["frame_start"], span["frame_end"], span["hands"], span["samples"]) == (10, 15, "left", RESAMPLE_SAMPLES)
    assert (span["iterations"], span["max_hands"], span["mirrored"], span["checkpoint"]) == (3, 3, True, panel["checkpoint"])
    assert span["temporal"] is True and span["job"] != panel["job"] and Path(span["output"]).name == "span.npz"
    assert (still["frame_start"], still["frame_end"], still["preview"]) == (12, 13, str(tmp_path / "footage.png"))


def test_a_re_sample_of_a_capture_at_the_checkpoints_own_sampling_asks_for_more_samples_only():
    span = span_request({"job": "a1", "video": "v.mp4", "output": "o.npz", "max_hands": 2}, "v.mp4", 4, 9, "right", "cpu")
    assert span["samples"] == RESAMPLE_SAMPLES and "iterations" not in span   # the checkpoint's own iterations
    assert span_request({"samples": 48}, "v.mp4", 4, 9, "right", "cpu")["samples"] == 48


def test_the_frame_mapping_goes_both_ways_at_the_two_rates():
    mapping = FrameMapping(footage_start=10, scene_start=1, footage_fps=30.0, scene_fps=24.0)
    assert mapping.to_scene([10, 15, 20, 40]).tolist() == [1.0, 5.0, 9.0, 25.0]
    assert [mapping.to_footage(frame) for frame in (1, 5, 9, 25, 5.4)] == [10, 15, 20, 40, 16]
    assert all(mapping.to_footage(mapping.to_scene(frame)) == frame for frame in range(10, 200))
    assert FrameMapping.of_source(json.loads(json.dumps(mapping.source_fields()))) == mapping
    assert mapping.clip_start == -9  # footage frame 10 on scene frame 1, a clip frame per scene frame
    same_rate = FrameMapping(0, 1, 25.0, 25.0)
    assert same_rate.to_scene(np.arange(3)).tolist() == [1.0, 2.0, 3.0] and same_rate.to_footage(3) == 2


def test_the_hello_says_what_0_means_and_when_hypotheses_coincide():
    sampling = BackendSampling.of_hello(HELLO_SAMPLING)
    assert sampling.label() == "0: the checkpoint's 8 samples, 5 iterations"
    assert not sampling.hypotheses_coincide(0, 0) and not sampling.hypotheses_coincide(2, 2)
    assert sampling.hypotheses_coincide(4, 1) and sampling.hypotheses_coincide(1, 0)
    assert BackendSampling.from_json(sampling.to_json()) == sampling
    unknown = BackendSampling.from_json("")  # no hello yet
    assert unknown.label() == "0: the checkpoint's own samples and iterations" and not unknown.hypotheses_coincide(1, 1)
    unreadable = BackendSampling.of_hello({**HELLO_SAMPLING, "sampling": None})
    assert unreadable.label() == unknown.label() and unreadable.hypotheses_coincide(4, 1)
    assert not unreadable.hypotheses_coincide(0, 0)  # the checkpoint's numbers are unknown: nothing to say


@pytest.mark.parametrize("base, hello, expected", [
    ({"iterations": 1}, HELLO_SAMPLING, (RESAMPLE_SAMPLES, 2)),              # raised to the rule
    ({"iterations": 3}, HELLO_SAMPLING, (RESAMPLE_SAMPLES, 3)),              # already meets it
    ({}, HELLO_SAMPLING, (RESAMPLE_SAMPLES, None)),                          # the checkpoint's 5 meet it
    ({}, {"sampling": {"samples": 8, "iterations": 1, "temperature": 1.0},   # a checkpoint of one iteration
          "differing_hypotheses": {"min_samples": 2, "min_iterations": 2}}, (RESAMPLE_SAMPLES, 2)),
    ({"iterations": 1}, {"differing_hypotheses": {"min_samples": 40, "min_iterations": 3}, "sampling": None},
     (40, 3)),
    ({"iterations": 1}, {}, (RESAMPLE_SAMPLES, 1)),                          # a backend that gives no rule
])
def test_a_re_sample_meets_the_hellos_rule_before_the_capture_goes_out(base, hello, expected):
    backend = FakeBackend()
    request = span_request({"job": "a1", **base}, "v.mp4", 4, 9, "right", "cpu")
    job = CaptureJob(backend, request, differing_hypotheses=True)
    job.handle(message("hello", **hello))
    (sent,) = backend.sent
    assert (sent["samples"], sent.get("iterations")) == expected and job.request is request


def test_a_capture_sends_its_request_as_built_whatever_the_rule():
    backend = FakeBackend()
    job = CaptureJob(backend, {"job": "a1", "samples": 1, "iterations": 1})
    job.handle(message("hello", **HELLO_SAMPLING))
    assert backend.sent == [{"type": "capture", "job": "a1", "samples": 1, "iterations": 1}]
    assert job.hello["sampling"]["samples"] == 8
