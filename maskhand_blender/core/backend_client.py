"""The backend process and its protocol (docs/protocol.md), from Blender's side. bpy-free.

The backend runs ``python -m backend serve`` in its own environment. A reader thread turns
its stdout lines into messages on a queue; Blender's main thread drains the queue from a modal
operator's timer, so no Blender data is touched off the main thread. stderr goes to a log file.
"""
from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

from .backend_sampling import BackendSampling

PROTOCOL_VERSION = 1


class BackendError(Exception):
    """The backend cannot be started or stopped answering; the message says what to do."""


def venv_python(environment: str | Path) -> Path:
    """The interpreter of a Python environment (venv) that ``tools/bootstrap.py`` made."""
    folder = Path(environment)
    return folder / "Scripts" / "python.exe" if sys.platform == "win32" else folder / "bin" / "python"


def check_backend_setup(python: str | Path, backend_folder: str | Path) -> None:
    """Raise BackendError naming the setting to fix when the interpreter or the backend folder is wrong."""
    folder = Path(backend_folder) if backend_folder else None
    if folder is None or not (folder / "backend" / "__main__.py").is_file():
        raise BackendError(f"MaskHand backend not found in '{backend_folder}': set Backend Folder in "
                           "Preferences > Add-ons > MaskHand to the MaskHand folder (it holds backend/ and tools/), "
                           "or leave it empty for the backend the extension carries")
    if not python or not Path(python).is_file():
        raise BackendError(f"Backend Python not found at '{python}': set it in Preferences > Add-ons > MaskHand, "
                           "or press Create Backend Environment")


class BackendProcess:
    def __init__(self, python: str | Path, backend_folder: str | Path, log_path: str | Path,
                 extra_args: tuple = ()):
        check_backend_setup(python, backend_folder)
        self.log_path = Path(log_path)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "ab")
        environment = {**os.environ, "PYTHONUNBUFFERED": "1"}
        environment.pop("PYTHONPATH", None)  # Blender's own paths must not leak into the backend's Python
        try:
            self.process = subprocess.Popen([str(python), "-m", "backend", "serve", *extra_args], cwd=str(backend_folder),
                                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log,
                                            env=environment)
        except OSError as error:
            self._log.close()
            raise BackendError(f"could not start the backend with '{python}': {error}. Check Backend Python in "
                               "Preferences > Add-ons > MaskHand") from None
        self.messages: queue.Queue = queue.Queue()
        self._reader = threading.Thread(target=self._read, name="maskhand-backend-reader", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for raw in self.process.stdout:
            line = raw.decode("utf-8", "replace").strip()
            if not line:
                continue
            try:
                message = json.loads(line)
                if not isinstance(message, dict) or "type" not in message:
                    raise ValueError("not a message")
            except ValueError:
                message = {"type": "garbage", "line": line[:200]}
            self.messages.put(message)
        self.messages.put({"type": "exited", "returncode": self.process.wait()})

    def send(self, message: dict) -> None:
        line = json.dumps({"protocol": PROTOCOL_VERSION, **message}) + "\n"
        try:
            self.process.stdin.write(line.encode("utf-8"))
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            pass  # the reader reports the exit; the caller learns of it from the queue

    def drain(self) -> list:
        """Every message received so far (non-blocking)."""
        received = []
        while True:
            try:
                received.append(self.messages.get_nowait())
            except queue.Empty:
                return received

    def wait_for(self, types: set, timeout: float) -> dict:
        """Block until a message of one of ``types`` (or the process's exit) arrives; for scripts and tests."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise BackendError(f"the backend did not answer within {timeout:.0f} s; see its log '{self.log_path}'")
            try:
                message = self.messages.get(timeout=remaining)
            except queue.Empty:
                continue
            if message["type"] in types | {"exited"}:
                return message

    def stop(self, grace: float = 3.0) -> None:
        """Ask the server to shut down; terminate it if it does not within ``grace`` seconds."""
        if self.process.poll() is None:
            self.send({"type": "shutdown"})
            try:
                self.process.stdin.close()
            except OSError:
                pass
            try:
                self.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self.process.terminate()
                try:
                    self.process.wait(timeout=grace)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
        self._log.close()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()

    @property
    def running(self) -> bool:
        return self.process.poll() is None


def describe_exit(message: dict, log_path: Path) -> str:
    return (f"the backend stopped unexpectedly (exit code {message.get('returncode')}); "
            f"see its log '{log_path}'")


class CaptureJob:
    """One capture over one backend process: start, feed it messages, learn how it ended. bpy-free.

    Drivers (the modal operator's timer, the headless job's loop) pass every message to
    ``handle``; ``state`` goes "starting" -> "running" -> "done" | "failed" | "cancelled". The request goes
    out once the backend's ``hello`` is in (kept as ``hello``: its sampling is what the job runs with)."""

    # Longest silence accepted from a working backend: it reports progress at least once per chunk of
    # frames, and loading a model or a first CUDA call stays well inside this.
    SILENCE_LIMIT = 180.0

    def __init__(self, backend: BackendProcess, request: dict, silence_limit: float = SILENCE_LIMIT,
                 differing_hypotheses: bool = False):
        self.backend, self.request = backend, request
        self.differing_hypotheses = differing_hypotheses  # raise samples and iterations to the hello's rule
        self.silence_limit, self.last_heard = silence_limit, time.monotonic()
        self.state = "starting"
        self.hello: dict | None = None
        self.fraction, self.stage = 0.0, "starting"
        self.warnings: list = []
        self.stages: list = []  # every progress stage reported, in order
        self.done: dict | None = None
        self.error: str | None = None
        self.cancel_sent = False

    def handle(self, message: dict) -> None:
        self.last_heard = time.monotonic()
        kind = message["type"]
        if kind == "hello" and self.state == "starting":
            self.hello = message
            if message.get("protocol") != PROTOCOL_VERSION:
                self._fail(f"the backend speaks protocol {message.get('protocol')}, this add-on {PROTOCOL_VERSION}: "
                           "update the backend and the add-on together")
                return
            if self.differing_hypotheses:
                BackendSampling.of_hello(message).raise_to_rule(self.request)
            self.state = "running"
            self.backend.send({"type": "capture", **self.request})
        elif kind == "progress" and message.get("job") == self.request["job"]:
            self.fraction, self.stage = float(message.get("fraction", 0.0)), str(message.get("stage", ""))
            self.stages.append((self.stage, self.fraction))
        elif kind == "warning":
            self.warnings.append(message.get("message", message.get("code", "")))
        elif kind == "done" and message.get("job") == self.request["job"]:
            self.done, self.state, self.fraction = message, "done", 1.0
        elif kind == "error":
            if message.get("code") == "cancelled":
                self.state = "cancelled"
            else:
                hint = message.get("hint")
                self._fail(f"{message.get('message')}" + (f" ({hint})" if hint else ""))
        elif kind == "garbage":
            self._fail(f"the backend wrote something that is not protocol: {message['line']!r}; "
                       f"see its log '{self.backend.log_path}'")
        elif kind == "exited" and self.state in ("starting", "running"):
            self.state = "cancelled" if self.cancel_sent else "failed"
            self.error = None if self.cancel_sent else describe_exit(message, self.backend.log_path)

    def check_silence(self, now: float | None = None) -> None:
        """Fail the job (and stop the process) when the backend has said nothing for ``silence_limit`` seconds."""
        now = time.monotonic() if now is None else now
        if not self.finished and now - self.last_heard > self.silence_limit:
            self._fail(f"the backend stopped answering ({now - self.last_heard:.0f} s without a message); it was "
                       f"stopped. See its log '{self.backend.log_path}'")
            self.backend.kill()

    def _fail(self, text: str) -> None:
        self.state, self.error = "failed", text

    def cancel(self) -> None:
        if not self.cancel_sent and self.state in ("starting", "running"):
            self.cancel_sent = True
            if self.state == "starting":
                self.state = "cancelled"
            else:
                self.backend.send({"type": "cancel", "job": self.request["job"]})

    @property
    def finished(self) -> bool:
        return self.state in ("done", "failed", "cancelled")
