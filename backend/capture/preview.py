"""The preview video: the footage with what the capture saw and what it reconstructed.

Per hand: the detected 2D keypoints (thin white skeleton), the reconstructed 3D skeleton
reprojected into the frame (joints coloured from green = sure to red = unsure, by the
per-joint uncertainty) and the hand mesh as a faint wireframe.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch

from ..hand_model.layout import KEYPOINT_PARENTS, MANO_TO_OPENPOSE
from .result import track_side

UNSURE_DEGREES = 30.0   # uncertainty drawn fully red
# The MANO joint whose uncertainty colours each OpenPose keypoint (a fingertip: its finger's last joint).
KEYPOINT_JOINT = tuple(MANO_TO_OPENPOSE[k] if MANO_TO_OPENPOSE[k] < 16 else MANO_TO_OPENPOSE[KEYPOINT_PARENTS[k]]
                       for k in range(21))
SIDE_COLOURS = {"left": (255, 160, 60), "right": (60, 160, 255)}  # BGR, for the mesh wireframe


def uncertainty_colour(degrees: float) -> tuple:
    """Green (sure) to yellow to red (unsure), BGR."""
    t = float(np.clip(degrees / UNSURE_DEGREES, 0, 1))
    return (0, int(255 * min(1, 2 * (1 - t))), int(255 * min(1, 2 * t)))


def project(points: np.ndarray, focal: float, width: int, height: int) -> np.ndarray:
    return focal * points[..., :2] / np.maximum(points[..., 2:], 1e-6) + np.array([width / 2, height / 2])


def draw_hand(frame, side: str, arrays: dict, row: int, hand, focal: float) -> None:
    height, width = frame.shape[:2]
    detected = arrays["keypoints2d"][row]
    for child, parent in enumerate(KEYPOINT_PARENTS):
        if parent >= 0:
            cv2.line(frame, _pt(detected[child]), _pt(detected[parent]), (255, 255, 255), 1, cv2.LINE_AA)
    pose = np.concatenate([arrays["global_orient"][row][None], arrays["hand_pose"][row]])
    with torch.no_grad():
        out = hand(torch.as_tensor(pose[None], device=hand.v_template.device),
                   torch.as_tensor(arrays["betas"][row][None], device=hand.v_template.device))
    translation = arrays["cam_t"][row]
    vertices = project(out.vertices[0].cpu().numpy() + translation, focal, width, height)
    for a, b, c in hand.faces.cpu().numpy()[::2]:
        cv2.polylines(frame, [np.int32([vertices[a], vertices[b], vertices[c]])], True, SIDE_COLOURS[side], 1,
                      cv2.LINE_AA)
    keypoints = project(arrays["joints3d"][row], focal, width, height)
    per_keypoint = arrays["uncertainty"][row][list(KEYPOINT_JOINT)]
    for child, parent in enumerate(KEYPOINT_PARENTS):
        if parent >= 0:
            cv2.line(frame, _pt(keypoints[child]), _pt(keypoints[parent]), uncertainty_colour(per_keypoint[child]), 2,
                     cv2.LINE_AA)
    for k in range(21):
        cv2.circle(frame, _pt(keypoints[k]), 3, uncertainty_colour(per_keypoint[k]), -1, cv2.LINE_AA)


def write_preview(path: str | Path, footage, start: int, end: int, results: dict, hands: dict, cancelled,
                  mirrored: bool = False) -> Path:
    """Draw every frame of [start, end) into ``path`` (.mp4 video, or a .png/.jpg still of the first frame).
    Stops early when ``cancelled()``; the caller discards the file then."""
    path = Path(path)
    writer = None
    try:
        for index, frame in footage.frames(start, end, mirrored):
            if cancelled():
                break
            row = index - start
            for track, arrays in results.items():
                if arrays["valid"][row]:
                    side = track_side(track)
                    draw_hand(frame, side, arrays, row, hands[side], footage.focal)
            if path.suffix.lower() in (".png", ".jpg", ".jpeg"):
                cv2.imwrite(str(path), frame)  # a still: the first frame only
                break
            if writer is None:
                writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), footage.fps,
                                         (frame.shape[1], frame.shape[0]))
            writer.write(frame)
    finally:
        if writer is not None:
            writer.release()
    return path


def _pt(point) -> tuple:
    return int(round(float(point[0]))), int(round(float(point[1])))
