"""Retarget accuracy in real Blender, the extension installed from the built zip."""
from pathlib import Path

import pytest

from tests.conftest import run_blender_script
from tests.test_extension import result_line

pytestmark = pytest.mark.blender

BLENDER_SCRIPTS = Path(__file__).parent / "blender"


@pytest.mark.slow
def test_keyed_finger_bones_point_where_the_hand_model_points(built_extension, tmp_path):
    worst = result_line(run_blender_script(BLENDER_SCRIPTS / "retarget_accuracy.py", str(built_extension),
                                           user_resources=tmp_path / "blender_user", timeout=600))
    assert worst["builtin"] < 2.0, worst
    assert max(worst["rigify"].values()) < 5.0, worst
    assert worst["mixamo"] < 5.0, worst
