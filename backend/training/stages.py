"""What both training commands share (``train``: the default checkpoint and the baseline on synthetic data;
``train_full``: the image model on real datasets): determinism, the learning-rate schedule, stage 2's losses
(the paper's token cross-entropy + MANO parameters + 3D joints + 2D reprojection) and its loop."""
from __future__ import annotations

import math
import os
import sys
import time

import torch
import torch.nn.functional as F

from ..maskhand.heads import camera_translation, project
from ..maskhand.model import MaskHand
from ..maskhand.rotations import axis_angle_to_matrix, axis_angle_to_rotation_6d, rotation_6d_to_matrix
from ..maskhand.sampling import draw_categorical, random_training_mask
from .data.training_batch import TrainingBatch


def set_determinism(seed: int, threads: int) -> None:
    # cuBLAS needs a fixed workspace for deterministic results (and refuses otherwise); set before CUDA starts.
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)


def cosine_learning_rate(optimizer, base: float, step: int, total: int, warmup: int = 200) -> None:
    factor = min(1.0, (step + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * step / total))
    for group in optimizer.param_groups:
        group["lr"] = base * factor


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def pose_losses(model: MaskHand, rotation_6d: torch.Tensor, betas: torch.Tensor, camera: torch.Tensor,
                batch: TrainingBatch) -> dict:
    """MANO parameter, 3D joint and 2D reprojection losses of predicted rotations (B, 16, 6)."""
    rotations = rotation_6d_to_matrix(rotation_6d)
    keypoints = model.hand(rotations=rotations, betas=betas, with_vertices=False).keypoints
    projected = project(keypoints, camera_translation(camera, model.config.focal_crop), model.config.focal_crop)
    return {
        "mano": (rotations - axis_angle_to_matrix(batch.pose)).abs().mean(),
        "betas": F.mse_loss(betas, batch.betas),
        "joints3d": (keypoints - keypoints[:, :1] - batch.keypoints3d).norm(dim=-1).mean(),
        "joints2d": (projected - batch.keypoints2d).abs().mean(),
    }


def weighted_total(parts: dict, training) -> torch.Tensor:
    return (training.token_weight * parts.get("token", 0.0) + training.mano_weight * parts["mano"]
            + training.betas_weight * parts["betas"] + training.joints3d_weight * parts["joints3d"]
            + training.joints2d_weight * parts["joints2d"])


def self_conditioned_tokens(model: MaskHand, target: torch.Tensor, batch: TrainingBatch,
                            generator: torch.Generator) -> torch.Tensor:
    """The visible tokens for this step: the truth, or in a ``self_conditioning`` share of rows the
    transformer's own draws from the fully masked state.

    At inference the tokens committed in early iterations are the model's own guesses, and from cues
    alone most are wrong (a pose lies between many neighbouring codes). Trained only on true visible
    tokens, the transformer learns to trust them, and iterating then locks early mistakes in. Seeing
    its own draws with the truth as target teaches it to treat committed tokens as hints it may
    overrule (self-conditioning, cf. MoMask's token corruption and Chen et al.'s Analog Bits).
    """
    share = model.config.training.self_conditioning
    rows = torch.rand(target.shape[0], generator=generator, device=target.device) < share
    if not rows.any():
        return target
    was_training = model.transformer.training
    model.transformer.eval()  # draw as inference does: no dropout
    with torch.no_grad():
        masked = torch.full_like(target[rows], model.mask_index)
        image = None if batch.image is None else batch.image[rows]
        logits, _, _ = model.transformer(masked, batch.cues[rows], image)
        drawn = draw_categorical(logits.softmax(-1), generator)
    model.transformer.train(was_training)
    visible = target.clone()
    visible[rows] = drawn
    return visible


def transformer_losses(model: MaskHand, batch: TrainingBatch, generator: torch.Generator) -> dict:
    with torch.no_grad():
        target = model.tokenizer.encode(axis_angle_to_rotation_6d(batch.pose))           # (B, L)
    mask = random_training_mask(*target.shape, generator=generator)
    visible = self_conditioned_tokens(model, target, batch, generator)
    logits, betas, camera = model.transformer(visible.masked_fill(mask, model.mask_index), batch.cues, batch.image)
    parts = pose_losses(model, model.soft_decode(logits), betas, camera, batch)
    parts["token"] = F.cross_entropy(logits[mask], target[mask])
    return parts


def train_stage2(model: MaskHand, trainable: torch.nn.Module, losses, batches, name: str) -> None:
    """The loop shared by MaskHand's stage 2 and the baseline: ``losses(batch) -> dict``."""
    training = model.config.training
    optimizer = torch.optim.AdamW(trainable.parameters(), lr=training.learning_rate, weight_decay=training.weight_decay)
    trainable.train()
    started = time.monotonic()
    for step in range(training.transformer_steps):
        cosine_learning_rate(optimizer, training.learning_rate, step, training.transformer_steps)
        parts = losses(next(batches))
        loss = weighted_total(parts, training)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trainable.parameters(), 1.0)
        optimizer.step()
        if step % 200 == 0 or step == training.transformer_steps - 1:
            log(f"{name} {step:5d}/{training.transformer_steps} loss {loss.item():.4f} "
                + " ".join(f"{k} {v.item():.4f}" for k, v in parts.items()) + f" [{time.monotonic() - started:.0f}s]")
    trainable.eval()
