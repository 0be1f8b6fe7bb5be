"""Train MaskHand on synthetic data: stage 1 VQ-MANO, stage 2 the masked transformer; and the regression baseline.

    python -m backend.training.train default [--out backend/weights/maskhand-k]  # the shipped default, CPU, < 60 min
    python -m backend.training.train baseline --out backend/weights/baseline      # direct regression, same data, budget

(The image model on real datasets: ``python -m backend.training.train_full``.)
Deterministic from ``TrainingConfig.seed``: fixed step counts (never a time budget), seeded
data, a fixed thread count and torch's deterministic algorithms.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

from ..maskhand.config import MaskHandConfig
from ..maskhand.model import DEFAULT_CHECKPOINT, MaskHand, load_weights, read_config
from ..maskhand.rotations import axis_angle_to_matrix, axis_angle_to_rotation_6d, rotation_6d_to_matrix
from .calibrate import calibrate_checkpoint
from .data.synthetic import SyntheticHands, sample_finger_pose, sample_global_orientation
from .data.training_batch import from_synthetic
from .stages import cosine_learning_rate, log, pose_losses, set_determinism, train_stage2, transformer_losses

TOKENIZER_LEARNING_RATE = 1e-3


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


# ---- stage 2 on synthetic data (backend.training.stages) ------------------------------------------

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
    report = calibrate_checkpoint(out, config.training.calibration_hands)
    model.config.sampling.uncertainty_calibration = report["calibration"]  # as saved
    log(f"calibrated the uncertainty: Spearman rho {report['rho_spread']:.3f} -> {report['rho_calibrated']:.3f} "
        f"on {report['count']} validation hands, {(time.monotonic() - started) / 60:.1f} min in all")
    return model


def train_baseline(config: MaskHandConfig, out: Path) -> None:
    """The direct-regression baseline on the same synthetic stream (same seed, batch size and steps)."""
    from ..maskhand.baseline import DirectRegressor
    from ..maskhand.model import save_weights

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
    parser.add_argument("what", choices=("default", "baseline"))
    parser.add_argument("--out", type=Path)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--tokenizer-steps", type=int)
    parser.add_argument("--transformer-steps", type=int)
    parser.add_argument("--tokenizer", type=Path, help="default training: checkpoint whose VQ-MANO is reused, skipping "
                                                       "stage 1 (same tokenizer config and seed: same weights)")
    args = parser.parse_args(argv)

    config = MaskHandConfig(name="baseline" if args.what == "baseline" else "maskhand-k")
    for field, value in (("seed", args.seed), ("tokenizer_steps", args.tokenizer_steps),
                         ("transformer_steps", args.transformer_steps)):
        if value is not None:
            setattr(config.training, field, value)
    if args.what == "default":
        train_default(config, args.out or DEFAULT_CHECKPOINT, args.tokenizer)
    else:
        train_baseline(config, args.out or DEFAULT_CHECKPOINT.parent / "baseline")
    return 0


if __name__ == "__main__":
    sys.exit(main())
