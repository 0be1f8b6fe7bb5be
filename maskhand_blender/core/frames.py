"""Scene frames and footage frames: the one mapping between them, used by keying, re-sampling and the
main job's picture. bpy-free.

A capture's first footage frame lands on the scene's start frame, and the rest follow at the two
rates: footage at 30 fps keyed into a 24 fps scene takes 4 scene frames for every 5 footage frames.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class FrameMapping:
    footage_start: int     # the footage frame that lands on ``scene_start``
    scene_start: float
    footage_fps: float
    scene_fps: float

    @classmethod
    def of_source(cls, source: dict) -> "FrameMapping":
        """The mapping a keyed action stored (``source_fields``) when it was keyed."""
        return cls(source["first_frame"], source["scene_start"], source["fps"], source["scene_fps"])

    def source_fields(self) -> dict:
        """What a keyed action stores of the mapping, to find the footage frames of a span later."""
        return {"fps": self.footage_fps, "first_frame": self.footage_start, "scene_start": self.scene_start,
                "scene_fps": self.scene_fps}

    def to_scene(self, footage_frames) -> np.ndarray:
        """Footage frame numbers (N,) -> scene frames (N,), fractional where the rates differ."""
        return self.scene_start + (np.asarray(footage_frames) - self.footage_start) * (self.scene_fps / self.footage_fps)

    def to_footage(self, scene_frame: float) -> int:
        """A scene frame -> the nearest footage frame."""
        return self.footage_start + int(round((scene_frame - self.scene_start) * (self.footage_fps / self.scene_fps)))

    @property
    def clip_start(self) -> int:
        """The scene frame a movie clip of the footage starts on. Blender shows a clip frame per scene frame, so
        the clip matches the keys exactly when the rates match."""
        return int(self.scene_start) - self.footage_start
