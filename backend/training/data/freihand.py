"""FreiHAND (Zimmermann et al. 2019) in its published layout, for full training.

    root/training_xyz.json    N x 21 x 3 keypoints, metres, camera frame, OpenPose order
    root/training_mano.json   N x [61]: 48 pose (axis-angle), 10 shape, 3 translation
    root/training_K.json      N x 3 x 3 camera intrinsics
    root/training/rgb/%08d.jpg  (also accepted: root/rgb/%08d.jpg); image i shows annotation
                              i mod N: the green-screen frame and its three re-backgrounded copies

FreiHAND's MANO poses are relative to MANO's mean hand (``flat_hand_mean=False``); they are
converted to our flat-hand convention with the ``hands_mean`` of the user's MANO model. The
2D cues are the true keypoints with the errors of backend.training.data.synthetic.detector_errors,
since FreiHAND has no detector output.
"""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import torch

from .training_batch import training_item

DATASET_ID = 1  # keeps the cue corruption of FreiHAND and HO3D items with the same index independent


def find_freihand_images(root: Path) -> Path:
    for candidate in (root / "training" / "rgb", root / "rgb"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"FreiHAND images not found: expected '{root / 'training' / 'rgb'}' or '{root / 'rgb'}'")


class FreiHandDataset(torch.utils.data.Dataset):
    """Items are dicts of tensors (see ``collate_training_items``)."""

    def __init__(self, root: str | Path, hands_mean: np.ndarray, seed: int = 0):
        root = Path(root)
        self.images = find_freihand_images(root)
        self.xyz = np.asarray(json.loads((root / "training_xyz.json").read_text()), dtype=np.float64)
        self.mano = np.asarray(json.loads((root / "training_mano.json").read_text()), dtype=np.float64).reshape(-1, 61)
        self.intrinsics = np.asarray(json.loads((root / "training_K.json").read_text()), dtype=np.float64)
        if not len(self.xyz) == len(self.mano) == len(self.intrinsics):
            raise ValueError(f"FreiHAND files in '{root}' disagree on the number of samples: "
                             f"{len(self.xyz)} xyz, {len(self.mano)} mano, {len(self.intrinsics)} K")
        self.hands_mean = np.asarray(hands_mean, dtype=np.float64).reshape(45)
        self.seed = seed
        self.count = sum(1 for _ in self.images.glob("*.jpg"))

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index: int) -> dict:
        image_path = self.images / f"{index:08d}.jpg"
        annotation = index % len(self.xyz)
        image = cv2.imread(str(image_path))
        if image is None:
            raise FileNotFoundError(f"FreiHAND image missing or unreadable: '{image_path}'")
        image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        pose = self.mano[annotation, :48].reshape(16, 3).copy()
        pose[1:] += self.hands_mean.reshape(15, 3)                   # to the flat-hand convention
        xyz = self.xyz[annotation]
        projected = xyz @ self.intrinsics[annotation].T
        keypoints2d = projected[:, :2] / projected[:, 2:]
        rng = np.random.default_rng((self.seed, DATASET_ID, index))
        return training_item(image, pose, self.mano[annotation, 48:58], xyz, keypoints2d, True, rng)
