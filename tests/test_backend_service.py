"""The backend service end to end: the real subprocess, real MediaPipe, the real model."""
import json
import os

import cv2
import numpy as np
import pytest

from backend.capture.result import read_result
from tests.backend_process import BackendProcess
from tests.footage import write_video

pytestmark = pytest.mark.slow
REAL_PHOTO_TOLERANCE = 0.2  # median reprojection error, in hand sizes


@pytest.fixture(scope="module")
def clip_without_hands(tmp_path_factory):
    """A short clip the project makes itself: a moving gradient, no hands in it."""
    ramp = np.linspace(0, 255, 160, dtype=np.uint8)
    frames = [np.dstack([np.roll(ramp, 4 * i)[None].repeat(120, 0)] * 3) for i in range(24)]
    return write_video(tmp_path_factory.mktemp("clips") / "gradient.mp4", frames)


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory):
    frames = [np.full((96, 128, 3), (i * 3) % 255, np.uint8) for i in range(3000)]  # long enough to cancel
    return write_video(tmp_path_factory.mktemp("clips") / "long.mp4", frames)


@pytest.fixture(scope="module")
def clip_with_hands(tmp_path_factory, shared_data):
    """A slow pan across a real photograph with two hands (../shared/data/hamer_example/test1.jpg)."""
    photo = cv2.imread(str(shared_data / "hamer_example" / "test1.jpg"))
    frames = [np.ascontiguousarray(photo[10 + i: 10 + i + 480, 100 + 2 * i: 100 + 2 * i + 640]) for i in range(8)]
    return write_video(tmp_path_factory.mktemp("clips") / "pan.mp4", frames)


def open_sockets(pid: int) -> list:
    """The sockets a process holds (Linux); a service with no network port has none."""
    targets = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
    return [target for target in targets if target.startswith("socket:")]


@pytest.fixture()
def backend(tmp_path):
    process = BackendProcess(tmp_path / "backend.log")
    yield process
    assert process.close() == 0


def test_hello_comes_first(backend):
    hello = backend.next()
    assert hello["type"] == "hello" and hello["protocol"] == 1
    assert hello["model"] == "maskhand-k" and hello["device"] in ("cpu", "cuda")
    assert hello["engines"] == ["torch", "onnx"] and hello["mano_found"] is False
    assert set(hello["sampling"]) == {"samples", "iterations", "temperature"}  # the checkpoint's own
    assert hello["differing_hypotheses"] == {"min_samples": 2, "min_iterations": 2}
    assert open_sockets(hello["pid"]) == []  # the service talks over pipes only


def reprojection_error_in_hand_sizes(result, side):
    """Median distance between the reprojected 3D keypoints and the detected 2D ones, in hand sizes."""
    valid = result[side]["valid"]
    width, height = result["header"]["image_size"]
    joints = result[side]["joints3d"][valid]
    projected = result["header"]["focal"] * joints[..., :2] / joints[..., 2:] + np.array([width / 2, height / 2])
    detected = result[side]["keypoints2d"][valid]
    return np.median(np.linalg.norm(projected - detected, axis=-1) / np.ptp(detected, axis=1).max(-1)[:, None])


def test_capture_the_projects_own_footage(backend, sample_clip, tmp_path):
    """The built-in hand rendered by Blender: MediaPipe finds it, and the pose is close to the truth."""
    from backend.hand_model import JOINT_NAMES
    from backend.metrics import pa_error_mm

    backend.next()
    output = tmp_path / "sample.npz"
    backend.send("capture", job="sample", video=str(sample_clip), output=str(output), hands="right", samples=4)
    messages = backend.until_end("sample")
    assert messages[-1]["type"] == "done", messages[-1]
    assert open_sockets(backend.process.pid) == []
    result = read_result(output)
    truth = np.load(sample_clip.with_suffix(".truth.npz"))
    valid = result["right"]["valid"]
    assert valid.mean() > 0.8
    assert reprojection_error_in_hand_sizes(result, "right") < 0.1
    keypoints = result["right"]["joints3d"][valid]
    assert np.median(pa_error_mm(keypoints.astype(float), truth["keypoints3d"][valid])) < 30
    assert len(JOINT_NAMES) == result["right"]["uncertainty"].shape[1]


def test_capture_a_clip_with_hands(backend, clip_with_hands, tmp_path):
    backend.next()
    output = tmp_path / "pan.npz"
    backend.send("capture", job="pan", video=str(clip_with_hands), output=str(output), samples=4)
    messages = backend.until_end("pan")
    assert messages[-1]["type"] == "done", messages[-1]
    progress = [m for m in messages if m["type"] == "progress"]
    assert progress and [m["stage"] for m in progress][0] == "loading"
    assert all(a["frame"] <= b["frame"] for a, b in zip(progress, progress[1:]))
    stages = [m["stage"] for m in progress]
    assert stages.index("smoothing") > stages.index("loading")
    # The network gets 2 frames, then 4, then the last 2 of the 8 (backend.capture.tracking.chunk_ends).
    assert [m["frame"] for m in progress if m["stage"] == "capturing"] == [2, 6]
    result = read_result(output)
    assert result["header"]["image_size"].tolist() == [640, 480]
    # Both hands in the photo are right hands (the OK sign and the thumbs-up): two right tracks, an empty left.
    assert result["header"]["tracks"].tolist() == ["right", "left", "right_2"]
    assert not result["left"]["valid"].any()
    for side in ("right", "right_2"):
        assert result[side]["valid"].sum() >= 6, side
        # sane: the reconstructed keypoints reproject near the detected 2D keypoints. On these real hands
        # the CPU-trained default reaches 0.05-0.15 hand sizes (an untrained model: 0.4).
        assert reprojection_error_in_hand_sizes(result, side) < REAL_PHOTO_TOLERANCE
        assert np.isfinite(result[side]["uncertainty"][result[side]["valid"]]).all()


def test_no_hands_is_a_warning_not_an_error_and_cuda_falls_back(backend, clip_without_hands, tmp_path):
    backend.next()
    output = tmp_path / "gradient.npz"
    backend.send("capture", job="g", video=str(clip_without_hands), output=str(output), device="cuda", samples=2)
    messages = backend.until_end("g")
    assert messages[-1]["type"] == "done"
    codes = {m["code"] for m in messages if m["type"] == "warning"}
    assert "no_hands" in codes
    import torch

    if not torch.cuda.is_available():
        assert "cuda_unavailable" in codes and messages[-1]["device"] == "cpu"
    result = read_result(output)
    assert not result["left"]["valid"].any() and len(result["left"]["frames"]) == 24


def test_hypotheses_that_coincide_get_one_warning_and_the_job_runs(backend, clip_with_hands, tmp_path):
    backend.next()
    backend.send("capture", job="t1", video=str(clip_with_hands), output=str(tmp_path / "t1.npz"), samples=3,
                 iterations=1)
    messages = backend.until_end("t1")
    assert messages[-1]["type"] == "done", messages[-1]
    warnings = [m for m in messages if m["type"] == "warning"]
    assert [m["code"] for m in warnings] == ["hypotheses_coincide"]
    assert "coincide at fewer than 2 iterations" in warnings[0]["message"]
    result = read_result(tmp_path / "t1.npz")
    assert result["right"]["valid"].sum() >= 6


def test_cancel_in_the_middle_then_the_next_job_runs(backend, long_clip, clip_without_hands, tmp_path):
    backend.next()
    output = tmp_path / "long.npz"
    backend.send("capture", job="long", video=str(long_clip), output=str(output), samples=2)
    while True:
        message = backend.next()
        if message["type"] == "progress" and message["stage"] == "capturing":
            backend.send("cancel", job="long")
            break
    end = backend.until_end("long")[-1]
    assert end["type"] == "error" and end["code"] == "cancelled"
    assert not output.exists()
    backend.send("capture", job="next", video=str(clip_without_hands), output=str(tmp_path / "next.npz"), samples=2)
    assert backend.until_end("next")[-1]["type"] == "done"


def test_each_bad_input_gets_its_code_and_the_server_survives(backend, clip_without_hands, tmp_path):
    backend.next()
    not_video = tmp_path / "notes.mp4"
    not_video.write_text("this is not a video")
    empty = tmp_path / "empty.avi"  # a valid container holding no frame
    cv2.VideoWriter(str(empty), cv2.VideoWriter_fourcc(*"MJPG"), 30, (64, 64)).release()
    truncated = tmp_path / "truncated.mp4"  # mp4v writes its index last: a cut file cannot be opened at all
    truncated.write_bytes(clip_without_hands.read_bytes()[: clip_without_hands.stat().st_size // 3])
    foreign = tmp_path / "foreign_checkpoint"
    foreign.mkdir()
    (foreign / "config.json").write_text(json.dumps({"architectures": ["BertModel"]}))
    (foreign / "model.safetensors").write_bytes(b"\0" * 16)
    cases = {
        "file_not_found": dict(video=str(tmp_path / "missing.mp4")),
        "not_a_video": dict(video=str(not_video)),
        "video_corrupt": dict(video=str(truncated)),
        "no_frames": dict(video=str(empty)),
        "checkpoint_invalid": dict(checkpoint=str(foreign)),
        "mano_invalid": dict(mano_folder=str(tmp_path)),
        "bad_frame_range": dict(frame_start=500),
        "bad_request": dict(hands="three"),
    }
    for code, fields in cases.items():
        request = dict(video=str(clip_without_hands), output=str(tmp_path / f"{code}.npz"), samples=2) | fields
        backend.send("capture", job=code, **request)
        end = backend.until_end(code)[-1]
        assert end["type"] == "error" and end["code"] == code, (code, end)
        assert end["message"] and not (tmp_path / f"{code}.npz").exists()
    # An AVI cut short still decodes up to the cut: its frames are captured and the damage reported.
    frames = [np.full((64, 64, 3), 40 * (i % 6), np.uint8) for i in range(60)]
    avi = tmp_path / "whole.avi"
    writer = cv2.VideoWriter(str(avi), cv2.VideoWriter_fourcc(*"MJPG"), 30, (64, 64))
    for frame in frames:
        writer.write(frame)
    writer.release()
    cut_avi = tmp_path / "cut.avi"
    cut_avi.write_bytes(avi.read_bytes()[: avi.stat().st_size // 2])
    backend.send("capture", job="cut", video=str(cut_avi), output=str(tmp_path / "cut.npz"), samples=2)
    messages = backend.until_end("cut")
    assert messages[-1]["type"] == "done" and 0 < messages[-1]["frames"] < messages[-1]["expected_frames"]
    assert any(m["type"] == "warning" and m["code"] == "video_truncated" for m in messages)
    backend.send("capture", job="typed", video=str(clip_without_hands), output=str(tmp_path / "t.npz"), samples=2.5)
    end = backend.until_end("typed")[-1]
    assert end["code"] == "bad_request" and "samples" in end["message"]
    backend.send("capture", job="misspelt", video=str(clip_without_hands), output=str(tmp_path / "m.npz"), sample=2)
    end = backend.until_end("misspelt")[-1]
    assert end["code"] == "bad_request" and "'sample'" in end["message"] and "samples" in end["message"]
    assert not (tmp_path / "m.npz").exists()
    backend.process.stdin.write(json.dumps({"type": "capture", "protocol": 2, "job": "future"}) + "\n")
    backend.process.stdin.flush()
    end = backend.until_end("future")[-1]
    assert end["code"] == "protocol_mismatch"
    backend.process.stdin.write("this is not json\n")
    backend.process.stdin.flush()
    garbage = backend.next()
    assert garbage["type"] == "error" and garbage["code"] == "bad_request" and garbage["job"] is None
    backend.send("capture", job="after", video=str(clip_without_hands), output=str(tmp_path / "after.npz"), samples=2)
    assert backend.until_end("after")[-1]["type"] == "done"


@pytest.mark.parametrize("photo", ["test1.jpg", "test5.jpg"])
def test_cli_on_real_photographs(shared_data, photo, tmp_path):
    import subprocess
    import sys

    from tests.conftest import REPO

    output, preview = tmp_path / "photo.npz", tmp_path / "preview.png"
    completed = subprocess.run([sys.executable, "-m", "backend", "capture", str(shared_data / "hamer_example" / photo),
                                "-o", str(output), "--preview", str(preview), "--samples", "4"],
                               cwd=REPO, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert "\r" not in completed.stderr  # no progress bar when stderr is not a terminal
    result = read_result(output)
    tracks = result["header"]["tracks"].tolist()
    assert sum(int(result[track]["valid"].sum()) for track in tracks) == 2
    for track in tracks:
        if result[track]["valid"].any():
            assert reprojection_error_in_hand_sizes(result, track) < REAL_PHOTO_TOLERANCE
    assert cv2.imread(str(preview)).shape[:2] == tuple(result["header"]["image_size"][::-1])


def test_cli_reports_bad_input_with_its_code(tmp_path):
    import subprocess
    import sys

    from tests.conftest import REPO

    completed = subprocess.run([sys.executable, "-m", "backend", "capture", str(tmp_path / "nope.mp4"), "-o",
                                str(tmp_path / "x.npz")], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 2
    assert "error [file_not_found]" in completed.stderr and "nope.mp4" in completed.stderr


def test_busy_while_a_job_runs_and_shutdown_stops_it(backend, long_clip, tmp_path):
    backend.next()
    backend.send("capture", job="first", video=str(long_clip), output=str(tmp_path / "first.npz"), samples=2)
    backend.send("capture", job="second", video=str(long_clip), output=str(tmp_path / "second.npz"), samples=2)
    second = backend.until_end("second")[-1]
    assert second["type"] == "error" and second["code"] == "busy"
    backend.send("shutdown")
    first = backend.until_end("first")[-1]
    assert first["type"] == "error" and first["code"] == "cancelled"
    assert backend.process.wait(timeout=60) == 0
    assert not (tmp_path / "first.npz").exists()


def test_protocol_document_lists_every_message_and_code():
    from backend.capture import protocol
    from tests.conftest import REPO

    document = (REPO / "docs" / "protocol.md").read_text()
    for name in (*protocol.REQUEST_TYPES, *protocol.REPLY_TYPES, *protocol.ERRORS, *protocol.WARNINGS):
        assert f"`{name}`" in document, name


def test_a_request_without_temperature_samples_at_the_checkpoints():
    import torch

    from backend.training.data.synthetic import SyntheticHands
    from backend.training.data.training_batch import from_synthetic
    from backend.maskhand.model import DEFAULT_CHECKPOINT, read_config
    from backend.capture.estimation import PoseEstimator
    from backend.capture.protocol import CaptureRequest, ProtocolError

    message = {"job": "j", "video": "clip.mp4", "output": "out.npz"}
    assert CaptureRequest.from_message(message).temperature is None
    with pytest.raises(ProtocolError, match="temperature"):
        CaptureRequest.from_message({**message, "temperature": "hot"})
    cues = from_synthetic(SyntheticHands(seed=3).sample(2)).cues.numpy()

    def tokens(**fields):  # each estimator starts its own generator from the same seed
        request = CaptureRequest.from_message({**message, **fields})
        return PoseEstimator(request, "cpu", warn=lambda *_: None).estimate(cues).tokens

    default = tokens()
    assert torch.equal(default, tokens(temperature=read_config(DEFAULT_CHECKPOINT).sampling.temperature))
    assert not torch.equal(default, tokens(temperature=0.5))
