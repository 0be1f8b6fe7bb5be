"""The bad-input sweep (docs/bad_inputs.md lists every case and where it is tested): the footage cases
not covered by test_backend_service, through the real backend service."""
import cv2
import numpy as np
import pytest

from backend.capture.result import read_result
from tests.backend_process import BackendProcess
from tests.footage import write_video

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def hand_frames(sample_clip):
    capture = cv2.VideoCapture(str(sample_clip))
    frames = []
    while (frame := capture.read()[1]) is not None:
        frames.append(frame)
    return frames


@pytest.fixture()
def backend(tmp_path):
    process = BackendProcess(tmp_path / "backend.log")
    assert process.next()["type"] == "hello"
    yield process
    assert process.close() == 0


def capture(backend, video, output, **fields):
    backend.send("capture", job=output.stem, video=str(video), output=str(output), samples=2, iterations=2, **fields)
    return backend.until_end(output.stem)


def test_unicode_and_spaces_in_every_path(backend, hand_frames, tmp_path):
    folder = tmp_path / "händе ü 手" / "my clips"
    video = write_video(folder / "ünïcode clip.mp4", hand_frames[:6], 24.0)
    end = capture(backend, video, folder / "résultat final.npz", preview=str(folder / "aperçu vidéo.mp4"))[-1]
    assert end["type"] == "done", end
    assert (folder / "résultat final.npz").is_file() and (folder / "aperçu vidéo.mp4").is_file()


def test_a_single_frame_video(backend, hand_frames, tmp_path):
    end = capture(backend, write_video(tmp_path / "one.mp4", hand_frames[8:9], 24.0), tmp_path / "one.npz")[-1]
    assert end["type"] == "done" and end["frames"] == 1
    assert sum(len(read_result(tmp_path / "one.npz")[side]["frames"]) for side in ("left", "right")
               if side in read_result(tmp_path / "one.npz")) >= 1


@pytest.mark.parametrize("fps", [7.5, 59.94])
def test_odd_frame_rates_are_kept_in_the_result(backend, hand_frames, tmp_path, fps):
    video = write_video(tmp_path / f"{fps}.mp4", hand_frames[:5], fps)
    end = capture(backend, video, tmp_path / "odd.npz")[-1]
    assert end["type"] == "done"
    assert read_result(tmp_path / "odd.npz")["header"]["fps"] == pytest.approx(fps, rel=1e-3)


def test_a_hand_that_leaves_and_comes_back(backend, hand_frames, tmp_path):
    empty = np.full_like(hand_frames[0], 90)
    frames = hand_frames[:5] + [empty] * 4 + hand_frames[5:10]
    end = capture(backend, write_video(tmp_path / "away.mp4", frames, 24.0), tmp_path / "away.npz")[-1]
    assert end["type"] == "done"
    result = read_result(tmp_path / "away.npz")
    found = np.zeros(len(frames), bool)
    for side in ("left", "right"):
        if side in result:
            found |= result[side]["valid"]
    assert not found[5:9].any(), "a hand was reported in the empty frames"
    assert found[:5].any() and found[9:].any(), "the hand was not found again after it came back"
