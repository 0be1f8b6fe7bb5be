"""Faults across the process boundary, seen from the add-on's client (maskhand_blender.core.backend_client):
each ends in one clear message, and the next capture works.

The real backend is killed mid-job, cancelled while loading its model and given an output it
cannot write; stand-in backends (a few lines of Python in a folder laid out like the real one)
stop answering, write garbage and speak another protocol version.
"""
import os
import signal
import sys
import textwrap
import time

import pytest

from maskhand_blender.core.backend_client import BackendProcess, CaptureJob
from tests.conftest import REPO


def drive(job: CaptureJob, timeout: float = 300, on_message=None) -> CaptureJob:
    deadline = time.monotonic() + timeout
    while not job.finished:
        assert time.monotonic() < deadline, f"job still {job.state} after {timeout} s"
        for message in job.backend.drain():
            job.handle(message)
            if on_message:
                on_message(job, message)
        job.check_silence()
        time.sleep(0.02)
    job.backend.stop()
    return job


def capture_request(clip, tmp_path, name="a", **fields):
    return {"job": name, "video": str(clip), "output": str(tmp_path / f"{name}.npz"), "samples": 2, "iterations": 2,
            **fields}


def real_job(clip, tmp_path, name="a", **fields) -> CaptureJob:
    backend = BackendProcess(sys.executable, REPO, tmp_path / "backend.log")
    return CaptureJob(backend, capture_request(clip, tmp_path, name, **fields))


def stand_in_backend(tmp_path, body: str) -> BackendProcess:
    folder = tmp_path / "stand_in"
    (folder / "backend").mkdir(parents=True, exist_ok=True)
    (folder / "backend" / "__init__.py").write_text("")
    (folder / "backend" / "__main__.py").write_text(textwrap.dedent(body))
    return BackendProcess(sys.executable, folder, tmp_path / "stand_in.log")


@pytest.mark.slow
def test_a_backend_killed_mid_job_gives_one_message_and_the_next_capture_works(sample_clip, tmp_path):
    def kill_when_capturing(job, message):
        if message["type"] == "progress" and job.backend.running:
            os.kill(job.backend.process.pid, signal.SIGKILL)

    job = drive(real_job(sample_clip, tmp_path), on_message=kill_when_capturing)
    assert job.state == "failed" and "stopped unexpectedly (exit code -9)" in job.error
    assert str(tmp_path / "backend.log") in job.error
    assert not (tmp_path / "a.npz").exists()
    again = drive(real_job(sample_clip, tmp_path, "b"))
    assert again.state == "done" and (tmp_path / "b.npz").is_file()


@pytest.mark.slow
def test_cancel_while_the_model_loads(sample_clip, tmp_path):
    def cancel_at_once(job, message):
        if message["type"] == "progress" and message.get("stage") == "loading":
            job.cancel()

    job = drive(real_job(sample_clip, tmp_path), on_message=cancel_at_once)
    assert job.state == "cancelled" and job.error is None and not (tmp_path / "a.npz").exists()


@pytest.mark.slow
def test_an_output_that_cannot_be_written_is_reported(sample_clip, tmp_path):
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the output folder should be")
    job = real_job(sample_clip, tmp_path, output=str(blocked / "result.npz"))
    drive(job)
    assert job.state == "failed" and "result.npz" in job.error


def test_a_backend_that_stops_answering_is_stopped_with_a_clear_message(tmp_path):
    backend = stand_in_backend(tmp_path, """
        import json, time
        print(json.dumps({"type": "hello", "protocol": 1}), flush=True)
        time.sleep(600)
    """)
    job = drive(CaptureJob(backend, {"job": "a"}, silence_limit=1.0), timeout=30)
    assert job.state == "failed" and "stopped answering" in job.error
    assert backend.process.poll() is not None  # it was stopped, not left behind


def test_garbage_on_stdout_is_reported_not_parsed(tmp_path):
    backend = stand_in_backend(tmp_path, """
        import json, sys
        print(json.dumps({"type": "hello", "protocol": 1}), flush=True)
        sys.stdin.readline()
        print("Illegal instruction (core dumped)", flush=True)
        sys.stdin.readline()
    """)
    job = drive(CaptureJob(backend, {"job": "a"}), timeout=30)
    assert job.state == "failed" and "'Illegal instruction (core dumped)'" in job.error


def test_a_backend_of_another_protocol_version_is_refused(tmp_path):
    backend = stand_in_backend(tmp_path, """
        import json, sys
        print(json.dumps({"type": "hello", "protocol": 2}), flush=True)
        sys.stdin.readline()
    """)
    job = drive(CaptureJob(backend, {"job": "a"}), timeout=30)
    assert job.state == "failed" and "protocol 2" in job.error and "update the backend and the add-on" in job.error
