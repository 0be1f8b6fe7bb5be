"""Cleanup in real Blender on a capture with known jitter, outliers and gaps (the extension from the built zip)."""
from pathlib import Path

import pytest

from tests.conftest import run_blender_script
from tests.test_extension import result_line

pytestmark = pytest.mark.blender

BLENDER_SCRIPTS = Path(__file__).parent / "blender"


@pytest.fixture(scope="module")
def run(built_extension, tmp_path_factory):
    out = tmp_path_factory.mktemp("cleanup")
    completed = run_blender_script(BLENDER_SCRIPTS / "cleanup_tools.py", str(built_extension), str(out),
                                   user_resources=tmp_path_factory.mktemp("blender_user"), timeout=600)
    return result_line(completed), completed.stdout


@pytest.mark.slow
def test_spans_markers_and_colours_follow_the_threshold(run):
    observed, _ = run
    assert [span[:2] for span in observed["spans"]] == [[21.0, 30.0], [51.0, 55.0]]
    assert observed["spans"][0][3] == 40.0 and observed["spans"][1][2] == "no hand"
    assert [frame for frame, _ in observed["markers"]] == [21, 51]
    red, green, _ = observed["colour_unsure"]
    assert red > 0.9 and green < 0.1
    red, green, _ = observed["colour_sure"]
    assert green > 0.9 and red < 0.5
    assert observed["mesh_red_share_unsure"] > 0.9 and observed["mesh_red_share_sure"] == 0.0  # the skinned mesh too
    assert observed["spans_at_45"] == [[51.0, 55.0]] and observed["markers_at_45"] == 1
    assert observed["colour_unsure_at_45"][1] > 0.9                  # 40 degrees is below a 45 degree threshold
    assert observed["graph_groups"] == ["index1.R", "index2.R", "index3.R"]   # beside the rotations they belong to


@pytest.mark.slow
def test_smoothing_halves_jitter_on_unsure_spans_and_keeps_sure_frames(run):
    observed, _ = run
    assert observed["smooth"] == ["FINISHED"]
    assert observed["jitter_ratio_worst"] < 0.5
    assert observed["sure_change_max_deg"] < 0.5


@pytest.mark.slow
def test_fill_gaps_keys_every_missing_frame_continuously(run):
    observed, _ = run
    assert observed["fill"] == ["FINISHED"] and observed["gap_frames_keyed"]
    assert observed["gap_step_max_deg"] < 1.5 * observed["typical_step_max_deg"]


@pytest.mark.slow
def test_select_and_delete_act_on_the_unsure_frames_of_the_chosen_span_only(run):
    observed, _ = run
    assert observed["selected_frames"] == [float(f) for f in list(range(21, 31)) + list(range(51, 56))]
    assert observed["deleted_frames"] == [float(f) for f in range(21, 31)]


@pytest.mark.slow
def test_every_cleanup_operator_reports_what_it_changed(run):
    _, stdout = run
    for start in ("smoothed ", "filled 5 frames without a hand on 16 bones: wrist.R", "selected ", "deleted 160 keys"):
        assert any(line.startswith(f"Info: {start}") for line in stdout.splitlines()), start


@pytest.mark.slow
def test_fbx_and_bvh_export_the_rig_animation_without_uncertainty_channels(run):
    observed, _ = run
    assert observed["fbx"] == observed["bvh"] == ["FINISHED"]
    assert not observed["fbx_has_uncertainty"] and not observed["bvh_has_uncertainty"]
    assert observed["bvh_joints"] == 16 and observed["bvh_frames"] == 90
