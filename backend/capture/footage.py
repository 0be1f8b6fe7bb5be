"""The footage stage: open a video or still image, check the frame range against it, decode its frames.

The container's own frame count can be missing or wrong (damaged files): it sets what is expected, and what
actually decodes is trusted (``check_decoded``).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from .protocol import ProtocolError

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}


@dataclass
class Footage:
    path: Path
    fps: float
    width: int
    height: int
    frame_count: int     # as the container reports it: 0 when unknown, and wrong for damaged files
    is_image: bool

    @property
    def focal(self) -> float:
        """The camera is unknown: HaMeR's convention, the network's crop focal (5000 px on 256) scaled to the
        frame's long side. It matches the near-orthographic camera the network fits in its crop, so the 3D
        keypoints reproject onto the detections; the price is a long lens, so hands sit far away (~10-20 m)."""
        return 5000.0 / 256.0 * max(self.width, self.height)

    def frames(self, start: int, end: int | None, mirrored: bool = False):
        """Yield (index, BGR frame) for start <= index < end (None: to the end of the file), decoding
        sequentially. ``mirrored`` footage (a selfie camera) is un-mirrored, so hands look as they are."""
        for index, frame in self._decode(start, end):
            yield index, (np.ascontiguousarray(frame[:, ::-1]) if mirrored else frame)

    def _decode(self, start: int, end: int | None):
        if self.is_image:
            if start == 0:
                yield 0, cv2.imread(str(self.path))
            return
        capture = cv2.VideoCapture(str(self.path))
        try:
            if start and not (capture.set(cv2.CAP_PROP_POS_FRAMES, start)
                              and int(capture.get(cv2.CAP_PROP_POS_FRAMES)) == start):
                capture.release()  # the container cannot seek exactly: decode from the start and skip
                capture = cv2.VideoCapture(str(self.path))
                for _ in range(start):
                    if not capture.grab():
                        return
            index = start
            while end is None or index < end:
                ok, frame = capture.read()
                if not ok:
                    return
                yield index, frame
                index += 1
        finally:
            capture.release()


def open_footage(path: str | Path) -> Footage:
    path = Path(path).expanduser()
    if not path.is_file():
        raise ProtocolError("file_not_found", f"footage not found: '{path}'", "check the path of the footage file")
    if path.suffix.lower() in IMAGE_SUFFIXES:
        image = cv2.imread(str(path))
        if image is None:
            raise ProtocolError("not_a_video", f"'{path}' could not be read as an image",
                                "use a video (mp4, mov, avi, mkv) or an image OpenCV can read")
        return Footage(path, 1.0, image.shape[1], image.shape[0], 1, True)
    capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened():
            if container_signature(path):
                raise ProtocolError("video_corrupt", f"'{path}' looks like a {container_signature(path)} file but "
                                    "cannot be decoded: it is truncated or damaged",
                                    "copy the footage again from its source, or re-encode it")
            raise ProtocolError("not_a_video", f"'{path}' is not a video OpenCV can open",
                                "use a video (mp4, mov, avi, mkv) or re-encode it, e.g. with ffmpeg to H.264 mp4")
        ok, frame = capture.read()
        count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        if not ok or frame is None:
            code = "no_frames" if count <= 0 else "video_corrupt"
            raise ProtocolError(code, f"'{path}' holds no decodable frame", "check that the file plays; re-encode it")
        fps = capture.get(cv2.CAP_PROP_FPS)
        return Footage(path, fps if fps and fps > 0 else 30.0, frame.shape[1], frame.shape[0], max(count, 0), False)
    finally:
        capture.release()


def container_signature(path: Path) -> str | None:
    """The container a file's first bytes announce (MP4/MOV, AVI, Matroska/WebM), or None."""
    with open(path, "rb") as file:
        head = file.read(12)
    if head[4:8] in (b"ftyp", b"moov", b"mdat", b"wide", b"free"):
        return "MP4/MOV"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "AVI"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "Matroska/WebM"
    return None


def checked_range(footage: Footage, start: int, end: int | None) -> int | None:
    """Checks that ``start`` lies inside the footage (ProtocolError ``bad_frame_range`` when not) and returns how
    many frames [start, end) should decode (None: the container does not say)."""
    if footage.frame_count and start >= footage.frame_count:
        raise ProtocolError("bad_frame_range", f"frame_start {start} is beyond the footage's "
                            f"{footage.frame_count} frames", "choose a frame range inside the footage")
    if footage.frame_count:
        return min(end or footage.frame_count, footage.frame_count) - start
    return None


def check_decoded(footage: Footage, start: int, decoded: int, expected: int | None, warn: Callable) -> None:
    """ProtocolError when nothing decoded from ``start`` on; a warning when far fewer frames decoded than expected."""
    if decoded == 0:
        raise ProtocolError("video_corrupt" if footage.frame_count else "no_frames",
                            f"no frame of '{footage.path.name}' could be decoded from frame {start} on",
                            "check that the file plays, or choose another frame range")
    if expected and decoded < expected - max(2, expected // 100):
        warn("video_truncated", f"decoded {decoded} of the {expected} frames the footage reports: "
             "the file is truncated or damaged; the frames that decoded were captured")
