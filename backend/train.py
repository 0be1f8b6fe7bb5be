"""Train MaskHand: stage 1 VQ-MANO, stage 2 the masked transformer; and the regression baseline.

    python -m backend.train default [--out backend/weights/maskhand-k]   # the shipped default, CPU, < 60 min
    python -m backend.train baseline --out backend/weights/baseline       # direct regression, same data and budget
    python -m backend.train full --freihand DIR [--ho3d DIR] --out DIR    # image + cues, on a GPU when present

Deterministic from ``TrainingConfig.seed``: fixed step counts (never a time budget), seeded
data, a fixed thread count and torch's deterministic algorithms.
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from .data.synthetic import SyntheticHands, sample_finger_pose, sample_global_orientation
from .data.training_batch import TrainingBatch, from_synthetic
from .maskhand.config import MaskHandConfig
from .maskhand.heads import camera_translation, project
from .maskhand.model import DEFAULT_CHECKPOINT, MaskHand, load_weights, read_config
from .maskhand.rotations import axis_angle_to_matrix, axis_angle_to_rotation_6d, rotation_6d_to_matrix
from .maskhand.sampling import draw_categorical, random_training_mask

TOKENIZER_LEARNING_RATE = 1e-3


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


# ---- stage 1: VQ-MANO -------------------------------------------------------------------------

def tokenizer_losses(model: MaskHand, pose: torch.Tensor):
    """pose (B, 16, 3) -> (total loss, dict of parts) for VQ-MANO."""
    config = model.config.tokenizer
    target_6d = axis_angle_to_rotation_6d(pose)
    reconstructed, _, commitment = model.tokenizer(target_6d)
    rotations = rotation_6d_to_matrix(reconstructed)
    rotation = (rotations - axis_angle_to_matrix(pose)).abs().mean()
    predicted = model.hand(rotations=rotations, with_vertices=False).keypoints
    with torch.no_grad():
        target = model.hand(pose, with_vertices=False).keypoints
    joints = (predicted - target).norm(dim=-1).mean()
    total = rotation + config.joint_loss_weight * joints + config.commitment_weight * commitment
    return total, {"rotation": rotation.item(), "joints_mm": 1000 * joints.item(), "commit": commitment.item()}


def synthetic_right_poses(generator: torch.Generator, count: int):
    rng = np.random.default_rng(int(torch.randint(0, 2**31 - 1, (1,), generator=generator)))
    pose = np.concatenate([sample_global_orientation(rng, count)[:, None], sample_finger_pose(rng, count)], 1)
    return torch.as_tensor(pose, dtype=torch.float32)


def train_tokenizer(model: MaskHand) -> None:
    training = model.config.training
    optimizer = torch.optim.AdamW(model.tokenizer.parameters(), lr=TOKENIZER_LEARNING_RATE,
                                  weight_decay=training.weight_decay)
    generator = torch.Generator().manual_seed(training.seed)
    model.tokenizer.train()
    started = time.monotonic()
    for step in range(training.tokenizer_steps):
        cosine_learning_rate(optimizer, TOKENIZER_LEARNING_RATE, step, training.tokenizer_steps)
        loss, parts = tokenizer_losses(model, synthetic_right_poses(generator, training.tokenizer_batch_size))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if step % 200 == 0 or step == training.tokenizer_steps - 1:
            used = int((model.tokenizer.quantizer.ema_count > model.config.tokenizer.dead_code_threshold).sum())
            log(f"tokenizer {step:5d}/{training.tokenizer_steps} loss {loss.item():.4f} "
                + " ".join(f"{k} {v:.4f}" for k, v in parts.items())
                + f" codes {used} [{time.monotonic() - started:.0f}s]")
    model.tokenizer.eval()


# ---- stage 2: the masked transformer (and the baseline, which shares the pose losses) -----------

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


def synthetic_batches(seed: int, batch_size: int):
    hands = SyntheticHands(seed)
    while True:
        yield from_synthetic(hands.sample(batch_size))


def train_default(config: MaskHandConfig, out: Path, tokenizer_checkpoint: Path | None = None) -> MaskHand:
    """Stage 1 then stage 2 on synthetic data, then the uncertainty's calibration; saves the checkpoint to ``out``.

    With ``tokenizer_checkpoint``, stage 1 is that checkpoint's VQ-MANO instead: stage 1 depends on the
    tokenizer config and the seed alone, so a checkpoint trained with both the same gives the same weights
    (it saves stage 1's 10 minutes when only stage 2 changes). Stage 2 starts from its own seed either way."""
    training = config.training
    set_determinism(training.seed, training.threads)
    model = MaskHand(config)
    started = time.monotonic()
    if tokenizer_checkpoint is None:
        train_tokenizer(model)
    else:
        reused = read_config(tokenizer_checkpoint)
        if (reused.tokenizer, reused.training.seed) != (config.tokenizer, training.seed):
            raise ValueError(f"'{tokenizer_checkpoint}' was trained with another tokenizer config or seed: its "
                             "VQ-MANO is not this run's stage 1")
        load_weights(tokenizer_checkpoint, {"tokenizer": model.tokenizer})
        log(f"stage 1: the VQ-MANO of {tokenizer_checkpoint}")
    model.tokenizer.eval()
    model.tokenizer.requires_grad_(False)
    torch.manual_seed(training.seed + 3)  # stage 2 does not depend on how stage 1 came about
    generator = torch.Generator().manual_seed(training.seed + 1)
    train_stage2(model, model.transformer, lambda batch: transformer_losses(model, batch, generator),
                 synthetic_batches(training.seed + 2, training.batch_size), "maskhand")
    model.save(out)
    log(f"saved {out} after {(time.monotonic() - started) / 60:.1f} min")
    from .calibrate import calibrate_checkpoint  # imports the evaluation, which imports training's data

    report = calibrate_checkpoint(out, config.training.calibration_hands)
    model.config.sampling.uncertainty_calibration = report["calibration"]  # as saved
    log(f"calibrated the uncertainty: Spearman rho {report['rho_spread']:.3f} -> {report['rho_calibrated']:.3f} "
        f"on {report['count']} validation hands, {(time.monotonic() - started) / 60:.1f} min in all")
    return model


def train_baseline(config: MaskHandConfig, out: Path) -> None:
    """The direct-regression baseline on the same synthetic stream (same seed, batch size and steps)."""
    from .maskhand.baseline import DirectRegressor
    from .maskhand.model import save_weights

    training = config.training
    set_determinism(training.seed, training.threads)
    model = MaskHand(config)  # for its hand model and config; the regressor is what trains
    regressor = DirectRegressor(config.transformer)

    def losses(batch):
        rotation_6d, betas, camera = regressor(batch.cues, batch.image)
        return pose_losses(model, rotation_6d, betas, camera, batch)

    started = time.monotonic()
    train_stage2(model, regressor, losses, synthetic_batches(training.seed + 2, training.batch_size), "baseline")
    save_weights(out, config, {"regressor": regressor})
    log(f"saved {out} after {(time.monotonic() - started) / 60:.1f} min")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=("default", "baseline", "full"))
    parser.add_argument("--out", type=Path)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--tokenizer-steps", type=int)
    parser.add_argument("--transformer-steps", type=int)
    parser.add_argument("--freihand", type=Path, help="FreiHAND root (training_xyz.json, training_mano.json, ...)")
    parser.add_argument("--ho3d", type=Path, help="HO3D root (train/<sequence>/meta, rgb)")
    parser.add_argument("--tokenizer", type=Path,
                        help="checkpoint whose VQ-MANO is reused (frozen): full training (default: the shipped one), "
                             "or default training, skipping stage 1 (same tokenizer config and seed: same weights)")
    parser.add_argument("--mano", type=Path, help="full training: folder with MANO_RIGHT.pkl / MANO_LEFT.pkl")
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--workers", type=int, default=0, help="full training: data loader processes")
    for field in ("dim", "layers", "heads", "vit-dim", "vit-layers", "vit-heads"):
        parser.add_argument(f"--{field}", type=int, help="full training: transformer / ViT size (default: the config's)")
    args = parser.parse_args(argv)

    config = MaskHandConfig(name="baseline" if args.what == "baseline" else "maskhand-k")
    for field, value in (("seed", args.seed), ("tokenizer_steps", args.tokenizer_steps),
                         ("transformer_steps", args.transformer_steps)):
        if value is not None:
            setattr(config.training, field, value)
    if args.what == "default":
        train_default(config, args.out or DEFAULT_CHECKPOINT, args.tokenizer)
    elif args.what == "baseline":
        train_baseline(config, args.out or DEFAULT_CHECKPOINT.parent / "baseline")
    else:
        from .train_full import train_full

        if args.freihand is None and args.ho3d is None:
            parser.error("full training needs --freihand and/or --ho3d")
        train_full(args.freihand, args.ho3d, args.tokenizer or DEFAULT_CHECKPOINT, args.out or Path("checkpoints/maskhand-full"), args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
