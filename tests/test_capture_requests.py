"""What a capture request may say and what the service tells the add-on before one: unknown fields refused,
the sampling config the checkpoint sets unless the request overrides it, and the rule for when hypotheses differ."""
from __future__ import annotations

import io
import json
import shutil

import pytest

from backend.capture.estimation import PoseEstimator
from backend.capture.protocol import FIELD_TYPES, CaptureRequest, ProtocolError
from backend.capture.server import Server
from backend.maskhand.model import CONFIG_FILE, DEFAULT_CHECKPOINT, WEIGHTS_FILE, read_config

MESSAGE = {"type": "capture", "protocol": 1, "job": "j", "video": "clip.mp4", "output": "out.npz"}


def test_every_request_field_has_its_accepted_types():
    assert set(FIELD_TYPES) == set(CaptureRequest.__dataclass_fields__)


@pytest.mark.parametrize("unknown", [{"sample": 4}, {"sample": 4, "iteration": 2}])
def test_an_unknown_request_field_is_refused_naming_it_and_the_valid_ones(unknown):
    with pytest.raises(ProtocolError) as caught:
        CaptureRequest.from_message({**MESSAGE, **unknown})
    assert caught.value.code == "bad_request"
    for name in unknown:
        assert repr(name) in caught.value.message
    valid = caught.value.message.split("valid ones are", 1)[1]
    assert all(name in valid for name in FIELD_TYPES)


def test_samples_and_iterations_default_to_the_checkpoints_and_are_checked_when_given():
    request = CaptureRequest.from_message(MESSAGE)
    assert request.samples is None and request.iterations is None and request.temperature is None
    assert CaptureRequest.from_message({**MESSAGE, "samples": None, "iterations": 64}).iterations == 64
    for name, value in (("samples", 0), ("samples", 65), ("iterations", 0), ("iterations", -3)):
        with pytest.raises(ProtocolError, match=f"{name} must be between 1 and 64"):
            CaptureRequest.from_message({**MESSAGE, name: value})
    for name, value in (("samples", True), ("iterations", 2.0), ("samples", "8")):
        with pytest.raises(ProtocolError, match=f"'{name}' has the wrong type"):
            CaptureRequest.from_message({**MESSAGE, name: value})


def checkpoint_with_sampling(folder, **sampling):
    """The default checkpoint's weights under a config whose sampling says otherwise."""
    folder.mkdir()
    shutil.copy(DEFAULT_CHECKPOINT / WEIGHTS_FILE, folder / WEIGHTS_FILE)
    config = json.loads((DEFAULT_CHECKPOINT / CONFIG_FILE).read_text())
    config["sampling"].update(sampling)
    (folder / CONFIG_FILE).write_text(json.dumps(config))
    return folder


def hello(checkpoint=None) -> dict:
    out = io.StringIO()
    Server(out, checkpoint=None if checkpoint is None else str(checkpoint)).hello()
    return json.loads(out.getvalue())


def test_hello_carries_the_checkpoints_sampling_and_the_rule_for_differing_hypotheses(tmp_path):
    own = read_config(DEFAULT_CHECKPOINT).sampling
    message = hello()
    assert message["type"] == "hello" and message["model"] == "maskhand-k"
    assert message["sampling"] == {"samples": own.samples, "iterations": own.iterations,
                                   "temperature": own.temperature}
    assert message["differing_hypotheses"] == {"min_samples": 2, "min_iterations": 2}
    # The checkpoint the server was started with, not the bundled one.
    other = checkpoint_with_sampling(tmp_path / "other", samples=3, iterations=7, temperature=0.5)
    assert hello(other)["sampling"] == {"samples": 3, "iterations": 7, "temperature": 0.5}
    unreadable = hello(tmp_path / "missing")
    assert unreadable["sampling"] is None and unreadable["model"] is None and unreadable["model_error"]
    assert unreadable["differing_hypotheses"] == {"min_samples": 2, "min_iterations": 2}


def test_a_request_that_names_no_checkpoint_runs_the_one_hello_described(tmp_path):
    other = checkpoint_with_sampling(tmp_path / "other", samples=3)
    server = Server(io.StringIO(), checkpoint=str(other), mano_folder=str(tmp_path))
    request = server.request_of(MESSAGE)
    assert (request.checkpoint, request.mano_folder) == (str(other), str(tmp_path))
    named = server.request_of({**MESSAGE, "checkpoint": str(DEFAULT_CHECKPOINT)})
    assert named.checkpoint == str(DEFAULT_CHECKPOINT)
    assert Server(io.StringIO()).request_of(MESSAGE).checkpoint is None  # the bundled one


def estimator(**fields):
    warnings = []
    request = CaptureRequest.from_message({**MESSAGE, **fields})
    made = PoseEstimator(request, "cpu", warn=lambda code, message: warnings.append((code, message)))
    return made, warnings


def test_a_request_that_leaves_sampling_out_gets_the_checkpoints(tmp_path):
    other = checkpoint_with_sampling(tmp_path / "other", samples=3, iterations=4, temperature=0.5)
    made, warnings = estimator(checkpoint=str(other))
    assert (made.sampling.samples, made.sampling.iterations, made.sampling.temperature) == (3, 4, 0.5)
    assert made.sampling == read_config(other).sampling and warnings == []
    asked, _ = estimator(checkpoint=str(other), samples=5, temperature=0.0)
    assert (asked.sampling.samples, asked.sampling.iterations, asked.sampling.temperature) == (5, 4, 0.0)


@pytest.mark.parametrize("fields, warned", [({"iterations": 1}, True), ({"samples": 4, "iterations": 1}, True),
                                            ({"samples": 1, "iterations": 1}, False), ({"samples": 1}, False),
                                            ({}, False), ({"samples": 2, "iterations": 2}, False)])
def test_hypotheses_that_coincide_are_said_once(fields, warned):
    made, warnings = estimator(**fields)
    codes = [code for code, _ in warnings]
    assert codes == (["hypotheses_coincide"] if warned else [])
    if warned:
        assert f"the {made.sampling.samples} hypotheses coincide at fewer than 2 iterations" in warnings[0][1]
        assert "nothing to choose from" in warnings[0][1]
