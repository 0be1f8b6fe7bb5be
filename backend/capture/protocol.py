"""The backend's subprocess protocol, version 1: one JSON object per line (see docs/protocol.md).

Requests (stdin): ``capture``, ``cancel``, ``shutdown``. Replies (stdout): ``hello`` once at
start, then per job ``progress``, ``warning``, and exactly one ``done`` or ``error``. Every
message carries ``type`` and ``protocol``; job messages carry the request's ``job`` id.
Arrays never travel here: a job's result is an ``.npz`` file whose path ``done`` names.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

PROTOCOL_VERSION = 1
REQUEST_TYPES = ("capture", "cancel", "shutdown")
REPLY_TYPES = ("hello", "progress", "warning", "done", "error")  # what the server sends (docs/protocol.md)
HANDS = ("left", "right", "both")
DEVICES = ("auto", "cuda", "cpu")
ENGINES = ("torch", "onnx")
MAX_HANDS = 8

# Stable error codes: the add-on and scripts may branch on them; the message is for people.
ERRORS = {
    "bad_request": "the request is not valid protocol JSON or lacks a field",
    "protocol_mismatch": "the client speaks another protocol version",
    "busy": "a capture is already running",
    "file_not_found": "the footage file does not exist",
    "not_a_video": "the file is not a video or image OpenCV can read",
    "no_frames": "the footage (or the frame range) holds no frames",
    "video_corrupt": "the footage is truncated or corrupt",
    "bad_frame_range": "the frame range is outside the footage",
    "checkpoint_invalid": "the model checkpoint is missing, unreadable or not a MaskHand checkpoint",
    "mano_invalid": "the MANO folder does not hold usable MANO_RIGHT.pkl / MANO_LEFT.pkl",
    "engine_unavailable": "the chosen inference engine cannot run this checkpoint",
    "output_unwritable": "the result file cannot be written",
    "output_is_folder": "an output path names a folder, not a file",
    "output_folder_missing": "an output's folder does not exist (it is not created)",
    "output_is_input": "an output path is the footage itself",
    "cancelled": "the job was cancelled",
    "internal": "an unexpected failure in the backend (see its log)",
}
WARNINGS = ("cuda_unavailable", "no_hands", "video_truncated", "mano_unused", "side_from_request",
            "hypotheses_coincide")
MAX_SAMPLES = MAX_ITERATIONS = 64


class ProtocolError(Exception):
    def __init__(self, code: str, message: str, hint: str = "", job: str | None = None):
        super().__init__(message)
        self.code, self.message, self.hint, self.job = code, message, hint, job


class Cancelled(Exception):
    """A job stopped because its client asked (``cancel``); reported as the error ``cancelled``."""


@dataclass
class CaptureRequest:
    job: str
    video: str
    output: str
    frame_start: int = 0
    frame_end: int | None = None         # exclusive; None: to the end
    hands: str = "both"
    max_hands: int = 2                   # the most hands looked for in a frame (any sides): 3+ for two people
    samples: int | None = None           # K hypotheses; None: the checkpoint's own (its config's sampling.samples)
    iterations: int | None = None        # T decoding iterations; None: the checkpoint's own
    temperature: float | None = None     # None: the checkpoint's own (its config's sampling.temperature)
    temporal: bool = True
    refine: bool = True                  # fit each pose to MediaPipe's 3D landmarks within MaskHand's prior
                                         # (backend.capture.refine)
    device: str = "auto"
    engine: str = "torch"
    checkpoint: str | None = None        # None: the server's (serve --checkpoint), else the bundled default
    mano_folder: str | None = None
    mirrored: bool = False               # selfie footage: frames are un-mirrored first; results refer to that image
    preview: str | None = None           # an .mp4 to write the preview video to

    @classmethod
    def from_message(cls, message: dict) -> "CaptureRequest":
        """The request a ``capture`` message makes; a field this version does not know is refused, not ignored:
        a misspelt setting would otherwise be dropped without a word."""
        known = list(FIELD_TYPES)
        unknown = sorted(set(message) - set(known) - {"type", "protocol"})
        if unknown:
            raise ProtocolError("bad_request", f"unknown request field{'s' if len(unknown) > 1 else ''} "
                                f"{', '.join(map(repr, unknown))}; the valid ones are {', '.join(known)}",
                                "check the field's spelling against docs/protocol.md")
        for required in ("job", "video", "output"):
            if not isinstance(message.get(required), str) or not message[required]:
                raise ProtocolError("bad_request", f"capture needs a non-empty string '{required}'")
        request = cls(**{key: message[key] for key in known if key in message})
        request.validate()
        return request

    def validate(self) -> None:
        for name, kinds in FIELD_TYPES.items():
            value = getattr(self, name)
            if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
                raise ProtocolError("bad_request", f"'{name}' has the wrong type ({type(value).__name__}: {value!r})",
                                    job=self.job)
        for name, allowed in (("hands", HANDS), ("device", DEVICES), ("engine", ENGINES)):
            if getattr(self, name) not in allowed:
                raise ProtocolError("bad_request", f"'{name}' must be one of {allowed}, not {getattr(self, name)!r}")
        if not 1 <= self.max_hands <= MAX_HANDS:
            raise ProtocolError("bad_request", f"max_hands must be between 1 and {MAX_HANDS}, not {self.max_hands}")
        for name, most in (("samples", MAX_SAMPLES), ("iterations", MAX_ITERATIONS)):
            value = getattr(self, name)
            if value is not None and not 1 <= value <= most:
                raise ProtocolError("bad_request", f"{name} must be between 1 and {most} (or left out for the "
                                    f"checkpoint's own), not {value}")
        if self.frame_start < 0 or (self.frame_end is not None and self.frame_end <= self.frame_start):
            raise ProtocolError("bad_frame_range", f"frame range [{self.frame_start}, {self.frame_end}) is empty",
                                "give frame_start >= 0 and frame_end > frame_start")

    @property
    def sides(self) -> tuple:
        return ("left", "right") if self.hands == "both" else (self.hands,)


# Accepted JSON types per request field, every field (bool is refused where a number is meant, and vice versa).
FIELD_TYPES = {
    "job": (str,), "video": (str,), "output": (str,), "frame_start": (int,), "frame_end": (int, type(None)),
    "hands": (str,), "max_hands": (int,), "samples": (int, type(None)),
    "iterations": (int, type(None)), "temperature": (int, float, type(None)),
    "temporal": (bool,), "refine": (bool,), "device": (str,), "engine": (str,), "checkpoint": (str, type(None)),
    "mano_folder": (str, type(None)), "mirrored": (bool,), "preview": (str, type(None)),
}


def encode(message_type: str, **fields) -> str:
    """One protocol line (no newline)."""
    return json.dumps({"type": message_type, "protocol": PROTOCOL_VERSION, **fields}, separators=(",", ":"))


def decode(line: str) -> dict:
    try:
        message = json.loads(line)
    except json.JSONDecodeError as error:
        raise ProtocolError("bad_request", f"not JSON: {error}") from None
    job = message.get("job") if isinstance(message, dict) and isinstance(message.get("job"), str) else None
    if not isinstance(message, dict) or message.get("type") not in REQUEST_TYPES:
        raise ProtocolError("bad_request", f"expected an object whose 'type' is one of {REQUEST_TYPES}", job=job)
    if message.get("protocol", PROTOCOL_VERSION) != PROTOCOL_VERSION:
        raise ProtocolError("protocol_mismatch", f"this backend speaks protocol {PROTOCOL_VERSION}, the request "
                            f"{message.get('protocol')}", "update the add-on and the backend together", job=job)
    return message


def error_fields(error: ProtocolError) -> dict:
    return {"code": error.code, "message": error.message, "hint": error.hint}
