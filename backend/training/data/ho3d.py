"""HO3D (v2/v3, Hampali et al. 2020) in its published layout, for full training.

    root/train/<sequence>/meta/<frame>.pkl   handPose (48), handBeta (10), handTrans (3),
                                             handJoints3D (21, 3), camMat (3, 3)
    root/train/<sequence>/rgb/<frame>.jpg    (v2: .png)

HO3D's 3D points are in an OpenGL camera frame (y up, z towards the viewer): we flip y and z
into the OpenCV frame (and the global orientation with them). Its keypoints are in MANO
order with the fingertips appended; its poses use MANO's flat hand (``flat_hand_mean=True``),
as ours do. Meta files are pickles: read with backend.hand_model.mano's restricted
unpickler, which admits numpy arrays only.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch
from scipy.spatial.transform import Rotation

from ...hand_model.layout import mano_to_openpose
from ...hand_model.mano import safe_load_pickle
from .training_batch import training_item

DATASET_ID = 2  # see backend.training.data.freihand.DATASET_ID

OPENGL_TO_OPENCV = np.diag([1.0, -1.0, -1.0])


class Ho3dDataset(torch.utils.data.Dataset):
    def __init__(self, root: str | Path, split: str = "train", seed: int = 0):
        self.frames = sorted((Path(root) / split).glob("*/meta/*.pkl"))
        if not self.frames:
            raise FileNotFoundError(f"no HO3D frames found under '{Path(root) / split}/<sequence>/meta/'")
        self.seed = seed

    def __len__(self) -> int:
        return len(self.frames)

    def __getitem__(self, index: int) -> dict:
        meta_path = self.frames[index]
        meta = safe_load_pickle(meta_path)
        sequence = meta_path.parent.parent
        image_path = next((sequence / "rgb" / f"{meta_path.stem}{ext}" for ext in (".jpg", ".png")
                           if (sequence / "rgb" / f"{meta_path.stem}{ext}").is_file()), None)
        image = None if image_path is None else cv2.imread(str(image_path))
        if image is None:
            raise FileNotFoundError(f"HO3D image for '{meta_path}' missing or unreadable")
        pose = np.asarray(meta["handPose"], dtype=np.float64).reshape(16, 3).copy()
        global_orient = Rotation.from_matrix(OPENGL_TO_OPENCV @ Rotation.from_rotvec(pose[0]).as_matrix())
        pose[0] = global_orient.as_rotvec()
        keypoints3d = mano_to_openpose(np.asarray(meta["handJoints3D"], dtype=np.float64).reshape(21, 3)) @ OPENGL_TO_OPENCV
        projected = keypoints3d @ np.asarray(meta["camMat"], dtype=np.float64).T
        keypoints2d = projected[:, :2] / projected[:, 2:]
        rng = np.random.default_rng((self.seed, DATASET_ID, index))
        return training_item(cv2.cvtColor(image, cv2.COLOR_BGR2RGB), pose, np.asarray(meta["handBeta"])[:10],
                             keypoints3d, keypoints2d, True, rng)
