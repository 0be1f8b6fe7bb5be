"""The full (image + cue) path: FreiHAND and HO3D loaders on fixtures the tests write, and one
real training step of a reduced-width full model on the CPU, whose checkpoint loads back."""
import argparse
import json
import pickle

import cv2
import numpy as np
import pytest
import torch

from backend.context.pose_cues import CUE_CHANNELS_3D
from backend.training.data.freihand import FreiHandDataset
from backend.training.data.ho3d import Ho3dDataset
from backend.training.data.training_batch import collate_training_items
from backend.hand_model import MANO_TO_OPENPOSE, OPENPOSE_TO_MANO, load_hand_model, load_mano_data
from backend.maskhand.model import MaskHand
from tests.synthetic_mano import write_mano_folder
from tests.test_maskhand_core import small_model

COUNT = 3


def hand_in_front_of_a_camera(seed):
    """Poses, betas and camera-frame keypoints (OpenCV frame) of a few right hands, and intrinsics."""
    rng = np.random.default_rng(seed)
    pose = rng.normal(scale=0.3, size=(COUNT, 16, 3))
    betas = rng.normal(size=(COUNT, 10))
    with torch.no_grad():
        keypoints = load_hand_model("right")(torch.as_tensor(pose, dtype=torch.float32),
                                             torch.as_tensor(betas, dtype=torch.float32)).keypoints.double().numpy()
    keypoints = keypoints - keypoints.mean(1, keepdims=True) + np.array([0.0, 0.0, 0.5])
    intrinsics = np.array([[400.0, 0, 112], [0, 400.0, 112], [0, 0, 1]])
    return pose, betas, keypoints, intrinsics


@pytest.fixture(scope="module")
def mano_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mano")
    write_mano_folder(folder, seed=9)
    return folder


@pytest.fixture(scope="module")
def freihand_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("freihand")
    pose, betas, keypoints, intrinsics = hand_in_front_of_a_camera(0)
    mano = np.concatenate([pose.reshape(COUNT, 48), betas, np.zeros((COUNT, 3))], 1)[:, None]
    (root / "training_xyz.json").write_text(json.dumps(keypoints.tolist()))
    (root / "training_mano.json").write_text(json.dumps(mano.tolist()))
    (root / "training_K.json").write_text(json.dumps([intrinsics.tolist()] * COUNT))
    (root / "training" / "rgb").mkdir(parents=True)
    for index in range(COUNT):
        image = np.random.default_rng(index).integers(0, 255, size=(224, 224, 3), dtype=np.uint8)
        cv2.imwrite(str(root / "training" / "rgb" / f"{index:08d}.jpg"), image)
    return root, pose, keypoints, intrinsics


@pytest.fixture(scope="module")
def ho3d_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("ho3d")
    pose, betas, keypoints, intrinsics = hand_in_front_of_a_camera(1)
    sequence = root / "train" / "ABF10"
    (sequence / "meta").mkdir(parents=True)
    (sequence / "rgb").mkdir()
    opengl = np.diag([1.0, -1.0, -1.0])
    for index in range(COUNT):
        meta = {"handPose": pose[index].reshape(48), "handBeta": betas[index], "handTrans": np.zeros(3),
                "handJoints3D": (keypoints[index] @ opengl)[list(OPENPOSE_TO_MANO)], "camMat": intrinsics}
        (sequence / "meta" / f"{index:04d}.pkl").write_bytes(pickle.dumps(meta, protocol=2))
        cv2.imwrite(str(sequence / "rgb" / f"{index:04d}.jpg"), np.full((224, 224, 3), 90, np.uint8))
    return root, keypoints


def test_freihand_loader(freihand_root, mano_folder):
    root, pose, keypoints, intrinsics = freihand_root
    hands_mean = load_mano_data(mano_folder, "right").hands_mean
    dataset = FreiHandDataset(root, hands_mean)
    assert len(dataset) == COUNT
    item = dataset[1]
    assert item["image"].shape == (3, 256, 192) and item["cues"].shape == (21, CUE_CHANNELS_3D)
    expected = pose[1].copy()
    expected[1:] += hands_mean.reshape(15, 3)  # FreiHAND poses are relative to MANO's mean hand
    assert torch.allclose(item["pose"], torch.as_tensor(expected, dtype=torch.float32), atol=1e-6)
    assert torch.allclose(item["keypoints3d"], torch.as_tensor(keypoints[1] - keypoints[1, :1], dtype=torch.float32), atol=1e-6)
    assert (item["keypoints2d"].abs() < 0.6).all()
    batch = collate_training_items([dataset[0], dataset[2]])
    assert batch.image.shape == (2, 3, 256, 192) and batch.pose.shape == (2, 16, 3)


def test_ho3d_loader_converts_frame_and_order(ho3d_root):
    root, keypoints = ho3d_root
    dataset = Ho3dDataset(root)
    assert len(dataset) == COUNT
    item = dataset[2]
    assert torch.allclose(item["keypoints3d"], torch.as_tensor(keypoints[2] - keypoints[2, :1], dtype=torch.float32), atol=1e-6)
    assert item["image"].shape == (3, 256, 192)
    assert MANO_TO_OPENPOSE[OPENPOSE_TO_MANO[4]] == 4


def test_one_training_step_of_a_reduced_full_model(freihand_root, ho3d_root, mano_folder, tmp_path):
    from backend.training.stages import set_determinism
    from backend.training.train_full import full_config, train_full

    tokenizer_checkpoint = tmp_path / "tokenizer"
    small_model().save(tokenizer_checkpoint)
    args = argparse.Namespace(mano=mano_folder, dim=32, layers=1, heads=2, vit_dim=32, vit_layers=1, vit_heads=2,
                              transformer_steps=1, batch_size=2, workers=0)
    config = full_config(tokenizer_checkpoint, args)
    set_determinism(config.training.seed, config.training.threads)
    before = MaskHand(config, mano_folder=mano_folder)  # the initial weights train_full starts from
    out = tmp_path / "full"
    trained = train_full(freihand_root[0], ho3d_root[0], tokenizer_checkpoint, out, args)
    assert trained.config.transformer.image_encoder == "vit"
    loaded = MaskHand.load(out, mano_folder=mano_folder)       # a full checkpoint loads through the same code
    assert loaded.config.hand_model == "mano" and loaded.transformer.context.image is not None
    image, cues = torch.randn(1, 3, 256, 192), torch.rand(1, 21, CUE_CHANNELS_3D)
    tokens = torch.full((1, 64), loaded.mask_index)
    with torch.no_grad():
        logits, betas, camera = loaded.transformer(tokens, cues, image)
    assert logits.shape == (1, 64, 32) and torch.isfinite(logits).all()
    changed = [name for name, p in trained.transformer.named_parameters()
               if not torch.equal(p, dict(before.transformer.named_parameters())[name])]
    assert changed  # the optimiser step moved the weights ...
    initial = dict(before.transformer.named_parameters())
    assert all((p - initial[name]).abs().max() < 1e-3 for name, p in trained.transformer.named_parameters())  # ... by one step
    assert torch.equal(trained.tokenizer.codebook, small_model().tokenizer.codebook)  # VQ-MANO stayed frozen
