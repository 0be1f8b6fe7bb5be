"""The reference camera: a camera that sees what the footage's camera saw, with the footage as its background."""
from __future__ import annotations

from pathlib import Path

import bpy
import numpy as np

from ..core.result_file import Capture
from .keying import scene_mapping
from .rig import CAMERA_TO_WORLD_EULER


def add_reference_camera(context, capture: Capture, footage: str, footage_start: int, mirrored: bool) -> bpy.types.Object:
    """The camera for ``capture`` of ``footage`` from frame ``footage_start``; ``mirrored``: selfie footage."""
    width, height = capture.image_size
    camera_data = bpy.data.cameras.new(f"{Path(footage).stem} Camera")
    camera_data.sensor_fit = "HORIZONTAL" if width >= height else "VERTICAL"
    camera_data.sensor_width = camera_data.sensor_height = 36.0
    camera_data.lens = capture.focal / max(width, height) * 36.0
    camera_data.clip_end = 1000.0
    clip = bpy.data.movieclips.load(footage, check_existing=True)
    clip.frame_start = scene_mapping(context.scene, capture.fps, footage_start).clip_start
    background = camera_data.background_images.new()
    background.source, background.clip = "MOVIE_CLIP", clip
    background.use_flip_x = mirrored  # results refer to the un-mirrored image
    camera_data.show_background_images = True
    camera = bpy.data.objects.new(camera_data.name, camera_data)
    # The capture's camera frame, seen in Blender: OpenCV (x right, y down, z forward) turned into Z-up.
    camera.rotation_euler = (CAMERA_TO_WORLD_EULER[0] + np.pi, 0.0, 0.0)
    context.collection.objects.link(camera)
    return camera
