"""The tensors a training step consumes, in the right-hand frame the network works in.

Every data source (our synthetic hands, FreiHAND, HO3D) ends up as a ``TrainingBatch``:
left hands are mirrored into right ones here (pose, 2D and 3D), as the pipeline does at
inference by flipping the crop.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ...context.pose_cues import crop_cues
from ...hand_model import mirror_points, mirror_pose
from .crops import crop_image
from .synthetic import SyntheticBatch, detector_errors, landmark_3d_errors


def as_tensor(array) -> torch.Tensor:
    return torch.as_tensor(np.ascontiguousarray(array), dtype=torch.float32)


@dataclass
class TrainingBatch:
    pose: torch.Tensor          # (B, 16, 3) axis-angle, right-hand frame, global orientation in the camera frame
    betas: torch.Tensor         # (B, 10)
    cues: torch.Tensor          # (B, 21, 7) cropped detector keypoints, confidence, MediaPipe-like 3D readings
    keypoints2d: torch.Tensor   # (B, 21, 2) true keypoints in the same crop coordinates
    keypoints3d: torch.Tensor   # (B, 21, 3) camera frame, relative to the wrist, metres
    occluded: torch.Tensor      # (B, 21) bool
    image: torch.Tensor | None = None  # (B, 3, H, W) normalised crop, for full checkpoints

    def to(self, device) -> "TrainingBatch":
        return TrainingBatch(**{key: None if value is None else value.to(device) for key, value in self.__dict__.items()})


def from_synthetic(batch: SyntheticBatch) -> TrainingBatch:
    side = np.where(batch.is_right, 1.0, -1.0)
    cues, boxes = crop_cues(batch.cues2d, batch.cue_confidence, batch.is_right, batch.cue_depth, batch.cue_world)
    keypoints2d = (batch.keypoints2d - boxes[:, None, :2]) / boxes[:, None, 2:]
    keypoints2d[..., 0] *= side[:, None]
    pose = np.where(batch.is_right[:, None, None], batch.pose, mirror_pose(batch.pose))
    relative = batch.keypoints3d - batch.keypoints3d[:, :1]
    keypoints3d = np.where(batch.is_right[:, None, None], relative, mirror_points(relative))
    return TrainingBatch(pose=as_tensor(pose), betas=as_tensor(batch.betas), cues=torch.from_numpy(cues),
                         keypoints2d=as_tensor(keypoints2d), keypoints3d=as_tensor(keypoints3d),
                         occluded=torch.from_numpy(batch.occluded))


def training_item(image_rgb, pose, betas, keypoints3d, keypoints2d, is_right: bool, rng) -> dict:
    """One hand as tensors in the right-hand frame (shared by the dataset loaders)."""
    cues2d, confidence, occluded = detector_errors(rng, keypoints2d[None])
    depth, world = landmark_3d_errors(rng, keypoints3d[None], keypoints2d[None], occluded)
    cues, boxes = crop_cues(cues2d, confidence, np.array([is_right]), depth, world)
    crop2d = (keypoints2d - boxes[0, :2]) / boxes[0, 2]
    relative = keypoints3d - keypoints3d[:1]
    if not is_right:
        crop2d[:, 0] *= -1
        pose, relative = mirror_pose(pose), mirror_points(relative)
    return {"pose": as_tensor(pose), "betas": as_tensor(betas), "cues": torch.from_numpy(cues[0]),
            "keypoints2d": as_tensor(crop2d), "keypoints3d": as_tensor(relative),
            "occluded": torch.from_numpy(occluded[0]), "image": torch.from_numpy(crop_image(image_rgb, boxes[0], is_right))}


def collate_training_items(items: list[dict]):
    return TrainingBatch(**{key: torch.stack([item[key] for item in items]) for key in items[0]})
