"""The result file between the two processes: what the backend writes, the add-on reads (schema 2, with any number
of tracks), and both still read schema 1 files."""
import numpy as np
import pytest

from backend.capture.result import ResultSchemaError, empty_track, read_result, write_result
from maskhand_blender.core.result_file import read_capture
from tests.result_files import track_arrays, write_result_file


def test_the_add_on_reads_what_the_backend_writes(tmp_path):
    frames = np.arange(10, 14)
    tracks = {}
    for name, found in (("right", [True] * 4), ("left", [False] * 4), ("right_2", [True, True, False, True])):
        arrays = empty_track(frames)
        arrays["valid"][:] = found
        arrays["hand_pose"][:, 3, 0] = 0.4 if name == "right_2" else 0.1
        arrays["score"][:] = np.where(found, 0.8, 0.0)
        tracks[name] = arrays
    path = write_result(tmp_path / "capture.npz", tracks, 30.0, (640, 480), 12500.0, "maskhand-k", "1")
    capture = read_capture(path)
    assert list(capture.hands) == ["right", "left", "right_2"]
    second = capture.hands["right_2"]
    assert (second.side, second.frames_found, second.mean_score) == ("right", 3, pytest.approx(0.8))
    np.testing.assert_allclose(second.pose[:, 4, 0], 0.4)  # hand_pose joint 3 is pose joint 4
    np.testing.assert_array_equal(second.frames, frames)
    backend = read_result(path)
    assert backend["header"]["tracks"].tolist() == ["right", "left", "right_2"] and backend["header"]["schema_version"] == 2


def test_the_backend_reads_schema_1_files_and_refuses_unknown_ones(tmp_path):
    old = write_result_file(tmp_path / "v1.npz", {"left": track_arrays(np.arange(3), [True, False, True]),
                                                  "right": track_arrays(np.arange(3), [True] * 3)}, schema_version=1)
    result = read_result(old)
    assert result["header"]["tracks"].tolist() == ["left", "right"] and result["left"]["valid"].sum() == 2
    future = write_result_file(tmp_path / "v3.npz", {"right": track_arrays(np.arange(2), [True, True])}, schema_version=3)
    with pytest.raises(ResultSchemaError, match="result schema 3"):
        read_result(future)
