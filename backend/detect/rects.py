"""Rotated hand rectangles: MediaPipe's region-of-interest arithmetic, in pixels.

A rect is a float array ``(..., 5)``: centre x, centre y, width, height (pixels) and rotation
(radians, positive turns the rect's up axis toward the image's x axis, as MediaPipe's
``NormalizedRect.rotation``). MediaPipe computes these in image-normalised units; in pixels the
formulas are the same with the image's size folded in, and a square_long rect stays square
in pixels. Sources, all in mediapipe 0.10.21: ``DetectionsToRectsCalculator``,
``RectTransformationCalculator``, ``HandLandmarksToRectCalculator``, ``ImageToTensorCalculator``
(the crop's corners map to the tensor's corners), ``LandmarkProjectionCalculator`` and
``WorldLandmarkProjectionCalculator``.
"""
from __future__ import annotations

import cv2
import numpy as np

# The hand's rect from a palm detection, and from the previous frame's landmarks (hand tracking).
PALM_ROTATION_KEYPOINTS = (0, 2)        # palm keypoints: wrist centre -> middle finger's knuckle
PALM_TO_HAND = dict(scale=2.6, shift_y=-0.5)
LANDMARKS_TO_HAND = dict(scale=2.0, shift_y=-0.1)
# The landmarks that bound the hand's rect when tracking (its fingertips and distal joints do not).
TRACKING_LANDMARKS = (0, 1, 2, 3, 5, 6, 9, 10, 13, 14, 17, 18)
TARGET_ANGLE = np.pi / 2                # the hand's up axis: wrist to knuckles points up in the crop


def normalize_radians(angle: np.ndarray) -> np.ndarray:
    return angle - 2 * np.pi * np.floor((angle + np.pi) / (2 * np.pi))


def rotation_from(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """(..., 2), (..., 2) pixels -> (...,): the rotation that makes start -> end point up in the crop."""
    delta = end - start
    return normalize_radians(TARGET_ANGLE - np.arctan2(-delta[..., 1], delta[..., 0]))


def transform(rects: np.ndarray, scale: float, shift_y: float) -> np.ndarray:
    """RectTransformationCalculator with square_long: shift along the rect's own axes, square up, scale."""
    x, y, width, height, rotation = np.moveaxis(rects, -1, 0)
    x = x - height * shift_y * np.sin(rotation)
    y = y + height * shift_y * np.cos(rotation)
    side = np.maximum(width, height) * scale
    return np.stack([x, y, side, side, rotation], -1)


def from_palms(boxes: np.ndarray, keypoints: np.ndarray) -> np.ndarray:
    """Hand rects (M, 5) from palm boxes (M, 4: x0, y0, x1, y1) and palm keypoints (M, 7, 2), pixels."""
    start, end = (keypoints[:, k] for k in PALM_ROTATION_KEYPOINTS)
    rects = np.stack([(boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2, boxes[:, 2] - boxes[:, 0],
                      boxes[:, 3] - boxes[:, 1], rotation_from(start, end)], -1)
    return transform(rects, **PALM_TO_HAND)


def from_landmarks(landmarks: np.ndarray) -> np.ndarray:
    """Next frame's hand rects (M, 5) from this frame's landmarks (M, 21, 2), pixels (HandLandmarksToRect)."""
    points = landmarks[:, TRACKING_LANDMARKS]
    knuckles = (points[:, 4] + points[:, 8]) / 2          # index and ring knuckles, then toward the middle's
    knuckles = (knuckles + points[:, 6]) / 2
    rotation = rotation_from(points[:, 0], knuckles)
    centre = (points.max(1) + points.min(1)) / 2           # axis-aligned centre, then the rotated box's
    turned = rotate(points - centre[:, None], -rotation)
    low, high = turned.min(1), turned.max(1)
    centre = centre + rotate(((low + high) / 2)[:, None], rotation)[:, 0]
    size = high - low
    rects = np.concatenate([centre, size, rotation[:, None]], -1)
    return transform(rects, **LANDMARKS_TO_HAND)


def rotate(points: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """(M, P, 2) points turned by angle (M,) radians about the origin (image axes, y down)."""
    cos, sin = np.cos(angle)[:, None], np.sin(angle)[:, None]
    x, y = points[..., 0], points[..., 1]
    return np.stack([cos * x - sin * y, sin * x + cos * y], -1)


def box(rect: np.ndarray) -> np.ndarray:
    """(5,) rect -> (4,) its unrotated box [x0, y0, x1, y1] (what AssociationNormRectCalculator compares)."""
    return np.concatenate([rect[:2] - rect[2:4] / 2, rect[:2] + rect[2:4] / 2])


def crop_matrix(rect: np.ndarray, size: int) -> np.ndarray:
    """(2, 3) affine map from a ``size`` x ``size`` tensor's pixels to the image's: the tensor's corners are
    the rect's corners, its up axis the rect's rotated one."""
    x, y, width, height, rotation = rect
    cos, sin = np.cos(rotation), np.sin(rotation)
    linear = np.array([[cos * width, -sin * height], [sin * width, cos * height]]) / size
    return np.concatenate([linear, (np.array([x, y]) - linear @ np.array([size / 2, size / 2]))[:, None]], 1)


def crop(image: np.ndarray, rect: np.ndarray, size: int, window: tuple | None = None,
         replicate: bool = False) -> np.ndarray:
    """The rect's pixels as a ``size`` x ``size`` image, bilinear, of the frame or of its ``window`` (x0, y0, x1,
    y1: pixels of the frame, e.g. a tile read as an image of its own); outside it zero, or with ``replicate``
    its edge pixels repeated (ImageToTensorCalculator's BORDER_ZERO for palms, BORDER_REPLICATE for hands)."""
    if window is not None:
        x0, y0, x1, y1 = window
        image, rect = image[y0:y1, x0:x1], rect - np.array([x0, y0, 0, 0, 0])
    return cv2.warpAffine(image, crop_matrix(rect, size), (size, size),
                          flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REPLICATE if replicate else cv2.BORDER_CONSTANT, borderValue=0)


def to_image(points: np.ndarray, rects: np.ndarray, size: int) -> np.ndarray:
    """(M, P, 2) points in the crops' tensor pixels -> image pixels (LandmarkProjectionCalculator)."""
    matrices = np.stack([crop_matrix(rect, size) for rect in rects])                    # (M, 2, 3)
    return points @ matrices[:, :, :2].transpose(0, 2, 1) + matrices[:, None, :, 2]


def square_around(width: int, height: int) -> np.ndarray:
    """The unrotated square rect around a whole width x height image (ImageToTensor's keep_aspect_ratio)."""
    side = float(max(width, height))
    return np.array([width / 2, height / 2, side, side, 0.0])
