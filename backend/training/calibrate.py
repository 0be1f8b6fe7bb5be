"""Fit the per-joint calibration that turns the sampler's spread into a typical angle error.

    python -m backend.training.calibrate [--checkpoint DIR] [--count N] [--seed 555]

Samples a synthetic validation set (never the test seed) with the checkpoint's own sampling config
(T, K, temperature; requests that change them get the same map, fitted for these),
fits per joint ``log(1 + error) = offset + slope * log(spread)`` by least squares (errors in degrees,
the answer's local rotation against the truth), and writes the 16 pairs into the checkpoint's
``config.json`` (``sampling.uncertainty_calibration``), which ``sampling.calibrated_error`` applies, beside
each joint's median error (``sampling.typical_error``: backend.capture.refine's prior where K=1 measures nothing).
A degree of spread means a different error on different joints, so without it a ranking of
joints across the hand is mostly a ranking of joint types. The map is monotone per joint: it
keeps the order of frames for every joint, and so what the cleanup finds on any one bone.
``python -m backend.training.train default`` runs it after training.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

from .evaluate import TEST_SEED, evaluate_maskhand, held_out_set, uncertainty_quality
from ..maskhand.model import CONFIG_FILE, DEFAULT_CHECKPOINT, MaskHand
from ..maskhand.sampling import calibrated_error

VALIDATION_SEED = 555  # neither training's seeds nor the test set's


def fit_calibration(spread: np.ndarray, error: np.ndarray) -> list[list[float]]:
    """spread, error (N, 16) degrees -> 16 (offset, slope) pairs of log(1 + error) on log(spread), slope >= 0."""
    pairs = []
    for joint in range(spread.shape[1]):
        design = np.stack([np.ones(len(spread)), np.log(np.maximum(spread[:, joint], 1e-3))], 1)
        target = np.log1p(error[:, joint])
        offset, slope = np.linalg.lstsq(design, target, rcond=None)[0]
        if slope < 0:  # more spread, less error: no signal to keep; the joint's typical error
            offset, slope = target.mean(), 0.0
        pairs.append([round(float(offset), 4), round(float(slope), 4)])
    return pairs


def calibrate_checkpoint(folder: Path, count: int | None = None, seed: int = VALIDATION_SEED) -> dict:
    """Fit on ``count`` validation hands (default: the config's ``training.calibration_hands``) and write
    the calibration into ``folder``'s config."""
    if seed == TEST_SEED:
        raise ValueError(f"seed {TEST_SEED} is the test set: calibrate on a validation seed")
    model = MaskHand.load(folder)
    count = count or model.config.training.calibration_hands
    batch = held_out_set(count, seed)
    _, details = evaluate_maskhand(model, batch, batch.occluded.numpy().any(1), model.config.sampling)
    spread, error = details["spread"], details["angles"]  # the fit is on the spread, before any calibration
    pairs = fit_calibration(spread, error)
    model.config.sampling.uncertainty_calibration = pairs
    model.config.sampling.typical_error = [round(float(value), 3) for value in np.median(error, 0)]
    model.config.save(Path(folder) / CONFIG_FILE)
    quality = uncertainty_quality(calibrated_error(torch.as_tensor(spread), pairs).numpy(), spread, error,
                                  batch.occluded.numpy())
    return {"count": count, "seed": seed, "calibration": pairs,
            "rho_spread": quality["spearman_rho_spread_vs_error"],
            "rho_calibrated": quality["spearman_rho_uncertainty_vs_error"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT)
    parser.add_argument("--count", type=int, help="validation hands (default: the config's calibration_hands)")
    parser.add_argument("--seed", type=int, default=VALIDATION_SEED)
    args = parser.parse_args(argv)
    torch.set_num_threads(2)  # as training and the evaluation run, so the fit's last digits match theirs
    report = calibrate_checkpoint(args.checkpoint, args.count, args.seed)
    print(f"calibrated {args.checkpoint} on {report['count']} hands of seed {report['seed']}: Spearman rho on them "
          f"{report['rho_spread']:.3f} (spread) -> {report['rho_calibrated']:.3f} (calibrated); per-joint slopes "
          + " ".join(f"{slope:.2f}" for _, slope in report["calibration"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
