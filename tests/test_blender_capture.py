"""The capture in real Blender: the extension from the built zip, the real backend subprocess, the project's clip."""
from pathlib import Path

import pytest

from tests.conftest import REPO, run_blender_script
from tests.test_extension import result_line

pytestmark = pytest.mark.blender

BLENDER_SCRIPTS = Path(__file__).parent / "blender"


@pytest.fixture(scope="module")
def observed(built_extension, sample_clip, tmp_path_factory):
    return result_line(run_blender_script(BLENDER_SCRIPTS / "capture_operator.py", str(built_extension), str(REPO),
                                          str(sample_clip), user_resources=tmp_path_factory.mktemp("blender_user"),
                                          timeout=900))


@pytest.mark.slow
def test_the_panel_draws_its_settings_and_operators(observed):
    assert {"footage", "max_hands", "preset", "target", "samples", "iterations", "temporal",
            "maskhand.capture"} <= set(observed["panel_idle"])
    assert {"progress", "maskhand.cancel_capture"} <= set(observed["panel_running"])
    assert "maskhand.capture" not in observed["panel_running"]


@pytest.mark.slow
def test_the_panel_shows_the_checkpoints_sampling_and_when_hypotheses_coincide(observed):
    """The numbers come from the backend's hello (Test Backend), not from the add-on."""
    assert "0: the checkpoint's 8 samples, 5 iterations" in observed["panel_defaults"]
    coincide = "Hypotheses coincide below 2 samples and 2 iterations: no temporal choice"
    assert coincide in observed["panel_coinciding"] and coincide not in observed["panel_idle"]


@pytest.mark.slow
def test_the_default_request_leaves_sampling_to_the_checkpoint_the_backend_serves(observed):
    request = observed["default_request"]
    assert "samples" not in request and "iterations" not in request and request["temporal"] is True
    checkpoint = str(REPO / "backend" / "weights" / "maskhand-k")
    assert request["checkpoint"] == checkpoint
    assert observed["serve_arguments"] == ["--checkpoint", checkpoint]


@pytest.mark.slow
def test_a_capture_keys_the_hands_found_in_the_clip(observed):
    capture = observed["capture"]
    assert capture["outcome"] == "FINISHED" and capture["level"] == "INFO", capture
    assert capture["stages"][0] == "loading" and capture["progress_monotonic"]
    assert observed["keyed"], "no armature was keyed"
    for rig, keyed in observed["keyed"].items():
        assert keyed["action"].startswith("hand ") and keyed["curves"] > 16 * 4 and keyed["keys"] >= 1, (rig, keyed)
    assert any(name.endswith("Camera") for name in observed["new_objects"])


@pytest.mark.slow
def test_capture_import_and_key_track_are_single_undoable_operators(observed):
    assert observed["import_operator"] == ["FINISHED"] and observed["import_added"]
    for name in ("MASKHAND_OT_capture", "MASKHAND_OT_import_result", "MASKHAND_OT_key_track"):
        assert "UNDO" in observed["undo_flags"][name]


@pytest.mark.slow
def test_three_tracks_key_right_and_left_and_list_the_third(observed):
    assert observed["three_import"] == ["FINISHED"]
    for rig, side in (("MaskHand Right", "Right"), ("MaskHand Left", "Left")):
        keyed = observed["three_keyed"][rig]
        assert keyed["action"] == f"three tracks {side} Hand" and max(keyed["keys"].values()) == 10, keyed
    assert '["maskhand_detected_right"][0]' in observed["three_keyed"]["MaskHand Right"]["keys"]
    assert observed["three_listed"] == [["right_2", 8, 0.6]]
    assert "further tracks to key from Last Capture: right_2" in observed["three_summary"]
    assert {"MASKHAND_UL_tracks", "Right 2 | 8 frames | score 0.60", "track_target",
            "maskhand.key_track"} <= set(observed["panel_tracks"])


@pytest.mark.slow
def test_the_panel_keys_the_third_track_onto_a_second_armature_and_changes_nothing_else(observed):
    assert observed["key_track"] == ["FINISHED"]
    assert observed["key_track_first_unchanged"]
    before, after = observed["key_track_second_before"], observed["key_track_second"]
    assert before["action"] == "Wave" and after["action"] == "three tracks Right 2 Hand"
    assert after["nla"] == ["Wave"] and observed["key_track_wave_unchanged"]   # the user's action plays below
    assert after["keys"]['["maskhand_detected_right_2"][0]'] == 10
    assert after["keys"]['pose.bones["index1.R"].rotation_quaternion[0]'] == 8   # frames with a hand
    assert observed["key_track_source"] == {"track": "right_2", "resample_hands": "right"}
    assert observed["resample_side_only"] == "right"


@pytest.mark.slow
def test_a_track_goes_onto_a_new_hand_or_beside_its_side_on_one_rig(observed):
    assert observed["key_track_new_hand"] == ["FINISHED"]
    assert observed["key_track_new_hand_action"] == "three tracks Right 2 Hand.001"
    assert observed["key_track_same_side"] == ["FINISHED"]
    assert observed["same_side_flags"] == ["maskhand_detected_right", "maskhand_detected_right_2"]


@pytest.mark.slow
def test_keying_a_track_names_what_stops_it(observed):
    assert "no capture yet" in observed["key_track_before_a_capture"]
    errors = observed["key_track_errors"]
    assert "armature 'Second Hand' has no bones" in errors["armature_lacks_bones"]
    assert "the Rigify preset needs an armature to key track 'right_2'" in errors["rigify_without_target"]
    assert "no track chosen" in errors["no_track_chosen"]
    assert "track 'right_2' is not in" in errors["track_gone"] and "one track.npz" in errors["track_gone"]


@pytest.mark.slow
def test_the_headless_job_keys_every_track_on_a_hand_of_its_own(observed):
    assert observed["every_track"].startswith("keyed right hand on 'MaskHand Right.001'")
    assert "right_2 hand on 'MaskHand Right 2.001'" in observed["every_track"]
    assert {"MaskHand Right.001", "MaskHand Left.001", "MaskHand Right 2.001"} <= set(observed["every_track_added"])


@pytest.mark.slow
def test_a_schema_1_result_still_imports(observed):
    assert observed["version_1_import"] == ["FINISHED"]
    assert observed["version_1_actions"] == ["version one Left Hand", "version one Right Hand"]
    assert observed["version_1_listed"] == 0


@pytest.mark.slow
def test_cancel_and_failures_leave_the_scene_unchanged_with_one_clear_message(observed):
    assert observed["cancel"] == {"level": "WARNING", "message": "capture cancelled; the scene is unchanged",
                                  "outcome": "CANCELLED", "unchanged": True}
    bad = observed["bad_footage"]
    assert bad["outcome"] == "CANCELLED" and bad["level"] == "ERROR" and bad["unchanged"]
    assert "not a video.mp4" in bad["message"], bad
    assert "Backend Python not found at '/nonexistent/python'" in observed["wrong_python"]
    assert observed["wrong_python_unchanged"]


@pytest.mark.slow
def test_a_custom_bone_map_is_edited_saved_loaded_and_used(observed):
    assert observed["save_map"] == observed["load_map"] == ["FINISHED"]
    assert observed["custom_rows"] == 16
    assert {"custom_right", "custom_left", "custom_key_wrist", "bone", "maskhand.save_bone_map"} <= set(observed["panel_custom"])
    assert observed["custom_import"] == ["FINISHED"]


@pytest.mark.slow
def test_resampling_a_span_replaces_only_that_span(observed):
    level, message, outcome = observed["resample"]
    assert outcome == "FINISHED" and message.startswith("MaskHand: re-sampled frames"), observed["resample"]
    request = observed["resample_request"]
    assert request["hands"] == "right" and request["samples"] >= 32 and request["temporal"] is True
    assert request["iterations"] == 2  # the capture's, which already meets the backend's rule
    assert request["frame_end"] > request["frame_start"]
    assert observed["resample_outside_unchanged"] and observed["resample_inside_changed"]


@pytest.mark.slow
def test_bad_settings_are_named_before_the_backend_starts(observed):
    errors = observed["settings_errors"]
    assert "no footage chosen" in errors["no_footage"]
    assert "footage '/nowhere/clip.mp4' not found" in errors["missing_footage"]
    assert "frame range 10-5 is empty" in errors["empty_range"]
    assert "Rigify preset needs a target armature" in errors["rigify_without_target"]
    assert "has no bone 'hand_fk.R'" in errors["rigify_on_builtin_rig"]
    assert "custom bone map is empty" in errors["empty_custom_map"]
    assert "must name bones for pinky1" in errors["custom_map_without_pinky1"]
    assert "backend not found in '/nowhere'" in errors["wrong_backend_folder"]
    assert observed["settings_unchanged"]


@pytest.mark.slow
def test_the_test_backend_button_shows_the_hello(observed):
    assert observed["test_backend"] == ["FINISHED"]
    assert "model maskhand-k" in observed["hello"] and "device cpu" in observed["hello"], observed["hello"]


@pytest.mark.slow
def test_both_hands_onto_one_character_are_keyed_in_one_import_and_named_in_the_summary(observed):
    assert observed["one_rig_import"] == ["FINISHED"]
    assert observed["one_rig_armatures"] == ["Character"]  # no hand built beside it
    summary = observed["one_rig_summary"]
    assert "right hand on 'Character'" in summary and "left hand on 'Character'" in summary, summary
    assert observed["one_rig_nla"] == ["three tracks Left Hand"]
