"""Drives the real backend subprocess (`python -m backend serve`) through its protocol."""
from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
from pathlib import Path

from tests.conftest import REPO


class BackendProcess:
    def __init__(self, log_path: Path, *args: str):
        self.log = open(log_path, "w")
        self.process = subprocess.Popen([sys.executable, "-m", "backend", "serve", *args], cwd=REPO,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, text=True,
                                        bufsize=1)
        self.lines: queue.Queue = queue.Queue()
        self.raw: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            self.raw.append(line)
            try:
                self.lines.put(json.loads(line))
            except json.JSONDecodeError:
                self.lines.put({"type": "not-protocol", "line": line})  # fails the test that reads it
        self.lines.put(None)

    def send(self, message_type: str, **fields) -> None:
        self.process.stdin.write(json.dumps({"type": message_type, "protocol": 1, **fields}) + "\n")
        self.process.stdin.flush()

    def next(self, timeout: float = 120) -> dict:
        message = self.lines.get(timeout=timeout)
        assert message is not None, "the backend closed its stdout"
        return message

    def until_end(self, job: str, timeout: float = 300) -> list[dict]:
        """Every message of ``job`` up to and including its done or error."""
        messages = []
        while True:
            message = self.next(timeout)
            if message.get("job") == job:
                messages.append(message)
                if message["type"] in ("done", "error"):
                    return messages

    def close(self) -> int:
        if self.process.poll() is None:
            self.send("shutdown")
            self.process.wait(timeout=60)
        self.log.close()
        stray = [line for line in self.raw if not line.strip().startswith("{")]
        assert not stray, f"non-protocol output on stdout: {stray[:3]}"  # only protocol lines on stdout
        return self.process.returncode
