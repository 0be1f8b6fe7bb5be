"""``python -m backend serve``: the add-on's subprocess service (protocol: backend/capture/protocol.py).

stdin carries requests, stdout carries only protocol lines, everything else goes to stderr:
the process's file descriptor 1 is pointed at stderr at start, so native libraries that
print (MediaPipe, TensorFlow Lite) cannot corrupt the protocol stream. One job runs at a
time on a worker thread; ``cancel`` is honoured between chunks of frames. A failed or
cancelled job leaves the server ready for the next. No network port is opened.
"""
from __future__ import annotations

import io
import logging
import os
import sys
import threading
import traceback

from . import protocol
from .protocol import Cancelled, CaptureRequest, ProtocolError

log = logging.getLogger("backend.capture.server")
BACKEND_VERSION = "0.1.0"


class Server:
    def __init__(self, out: io.TextIOBase, checkpoint: str | None = None, mano_folder: str | None = None):
        self.out = out
        self.checkpoint, self.mano_folder = checkpoint, mano_folder
        self.lock = threading.Lock()
        self.worker: threading.Thread | None = None
        self.cancel_event = threading.Event()
        self.job: str | None = None

    def send(self, message_type: str, final: bool = False, **fields) -> None:
        """Write one protocol line; ``final`` marks the job's last message and frees the server for the next."""
        with self.lock:
            if final:  # free the server before the client can read this line and send its next job
                self.job = None
            self.out.write(protocol.encode(message_type, **fields) + "\n")
            self.out.flush()

    def hello(self) -> None:
        """What this backend is and runs: versions, device, the checkpoint's name and its own sampling config
        (what a request that leaves samples, iterations and temperature out gets; null when the checkpoint cannot
        be read), and the rule for when hypotheses differ (``SamplingConfig.hypotheses_differ``)."""
        import torch

        from ..maskhand.config import DIFFERING_HYPOTHESES
        from ..maskhand.model import DEFAULT_CHECKPOINT, CheckpointError, read_config

        try:
            config, model_error = read_config(self.checkpoint or DEFAULT_CHECKPOINT), None
        except CheckpointError as error:
            config, model_error = None, str(error)
        sampling = None if config is None else {"samples": config.sampling.samples,
                                                "iterations": config.sampling.iterations,
                                                "temperature": config.sampling.temperature}
        mano = self.mano_folder
        self.send("hello", backend_version=BACKEND_VERSION, python=sys.version.split()[0], torch=torch.__version__,
                  device="cuda" if torch.cuda.is_available() else "cpu", cuda=torch.cuda.is_available(),
                  model=None if config is None else config.name, model_error=model_error,
                  engines=list(protocol.ENGINES), sampling=sampling, differing_hypotheses=dict(DIFFERING_HYPOTHESES),
                  mano_found=bool(mano) and all(os.path.isfile(os.path.join(mano, f"MANO_{side}.pkl"))
                                                for side in ("RIGHT", "LEFT")),
                  pid=os.getpid())

    def serve(self, lines) -> int:
        self.hello()
        for line in lines:
            if not line.strip():
                continue
            try:
                message = protocol.decode(line)
            except ProtocolError as error:
                self.send("error", job=error.job, **protocol.error_fields(error))
                continue
            kind = message["type"]
            if kind == "shutdown":
                self.cancel_event.set()
                break
            if kind == "cancel":
                if self.job is not None and message.get("job") in (None, self.job):
                    self.cancel_event.set()
                continue
            self.start_capture(message)
        self.cancel_event.set()  # shutdown, or stdin closed (the add-on went away): stop the job
        if self.worker is not None:
            self.worker.join()
        return 0

    def start_capture(self, message: dict) -> None:
        running = self.job
        if running is not None:
            self.send("error", job=message.get("job"), code="busy",
                      message=f"job {running} is still running", hint="cancel it or wait for its 'done'")
            return
        try:
            request = self.request_of(message)
        except (ProtocolError, TypeError, ValueError) as error:
            error = error if isinstance(error, ProtocolError) else ProtocolError("bad_request", str(error))
            self.send("error", job=message.get("job"), **protocol.error_fields(error))
            return
        self.cancel_event.clear()
        self.job = request.job
        self.worker = threading.Thread(target=self.run_job, args=(request,), daemon=True)
        self.worker.start()

    def request_of(self, message: dict) -> CaptureRequest:
        """The capture ``message`` asks for. One that names no checkpoint or MANO folder runs this server's, so that
        what hello said of them (the model, its sampling, the MANO files) holds for the job."""
        request = CaptureRequest.from_message(message)
        request.checkpoint = request.checkpoint or self.checkpoint
        request.mano_folder = request.mano_folder or self.mano_folder
        return request

    def run_job(self, request: CaptureRequest) -> None:
        from .pipeline import run_capture

        job = request.job
        try:
            summary = run_capture(
                request,
                progress=lambda **fields: self.send("progress", job=job, **fields,
                                                    fraction=round(fields["frame"] / max(fields["total"], 1), 4)),
                warn=lambda code, message: self.send("warning", job=job, code=code, message=message),
                cancelled=self.cancel_event.is_set)
            self.send("done", final=True, job=job, **summary)
        except Cancelled:
            self.send("error", final=True, job=job, code="cancelled", message=f"job {job} was cancelled", hint="")
        except ProtocolError as error:
            self.send("error", final=True, job=job, **protocol.error_fields(error))
        except Exception as error:  # noqa: BLE001 - the server must survive any job
            log.error("job %s failed:\n%s", job, traceback.format_exc())
            self.send("error", final=True, job=job, code="internal", message=f"{type(error).__name__}: {error}",
                      hint="see the backend log for the traceback")


def protocol_stdout() -> io.TextIOBase:
    """A private handle on the real stdout; fd 1 and sys.stdout then lead to stderr."""
    sys.stdout.flush()
    private = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return private


def main(checkpoint: str | None = None, mano_folder: str | None = None) -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    out = protocol_stdout()
    return Server(out, checkpoint, mano_folder).serve(sys.stdin)
