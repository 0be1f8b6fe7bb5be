"""Evaluate the default checkpoint on a held-out synthetic test set (a seed training never uses).

    python -m backend.training.evaluate [--checkpoint DIR] [--baseline DIR] [--count 2000] [--out docs/evaluation]
                                        [--seed N] [--samples K] [--temperature T] [--greedy-first | --no-greedy-first]

Another ``--seed`` gives a validation set (sampling settings are chosen on those, never on the test set);
``--samples``, ``--temperature`` and ``--greedy-first`` override the checkpoint's sampling config to compare settings.

Prints and writes (``<out>.json``, ``<out>.md``):
* VQ-MANO reconstruction: mean joint angle error, keypoint PA-MPJPE, codebook use.
* MaskHand at T=1 and at the checkpoint's T (5) with K hypotheses (and the best-ranked hypothesis alone) and
  with one greedy hypothesis (K=1), beside the direct-regression baseline: PA-MPJPE, PA-MPVPE, F@5/F@15
  (on the built-in hand's mesh), mean joint angle error; overall and on the occluded subset
  (hands with at least one occluded or dropped finger in their 2D cues).
* Whether the uncertainty means something: Spearman rho between per-joint uncertainty and
  per-joint angle error, and the mean uncertainty of occluded vs visible fingers.
The markdown ends with the real-footage section from bench/bench_real.py's last figures
(bench/results/real.json) when they are of the same checkpoint.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from scipy.stats import spearmanr

from .data.synthetic import SyntheticHands
from .data.training_batch import TrainingBatch, from_synthetic
from ..hand_model.layout import BONE_END_POINT, OPENPOSE_TO_MANO
from ..maskhand.config import SamplingConfig
from ..maskhand.model import DEFAULT_CHECKPOINT, MaskHand, load_weights, read_config
from ..maskhand.rotations import axis_angle_to_matrix, axis_angle_to_rotation_6d, rotation_6d_to_matrix
from ..maskhand.sampling import TorchEngine, sample
from ..metrics import f_score, pa_error_mm, rotation_angle_deg

# For MANO joints 1-15, the index (MANO order + tips) of the point each one moves.
CHILD_POINT = BONE_END_POINT[1:]
TEST_SEED = 20251127  # never used by training (seeds 0-2 and their derived streams)
REPO = Path(__file__).resolve().parents[2]
REAL_RESULTS = REPO / "bench" / "results" / "real.json"


def held_out_set(count: int, seed: int = TEST_SEED) -> TrainingBatch:
    return from_synthetic(SyntheticHands(seed).sample(count))


def pose_metrics(model: MaskHand, pose: torch.Tensor, betas: torch.Tensor, batch: TrainingBatch,
                 subset: np.ndarray) -> dict:
    """Accuracy of predicted poses (N, 16, 3) against the batch's truth, overall and on ``subset``."""
    with torch.no_grad():
        predicted = model.hand(pose, betas)
        target = model.hand(batch.pose, batch.betas)
    joints = pa_error_mm(predicted.keypoints.double().numpy(), target.keypoints.double().numpy()).mean(1)
    vertices_p, vertices_t = predicted.vertices.double().numpy(), target.vertices.double().numpy()
    vertices = pa_error_mm(vertices_p, vertices_t).mean(1)
    angles = rotation_angle_deg(axis_angle_to_matrix(pose.double()).numpy(),
                                axis_angle_to_matrix(batch.pose.double()).numpy())
    result = {}
    for name, rows in (("all", np.ones(len(subset), bool)), ("occluded", subset)):
        result[name] = {
            "count": int(rows.sum()),
            "pa_mpjpe_mm": float(joints[rows].mean()),
            "pa_mpvpe_mm": float(vertices[rows].mean()),
            "f5": float(f_score(vertices_p[rows], vertices_t[rows], 5.0).mean()),
            "f15": float(f_score(vertices_p[rows], vertices_t[rows], 15.0).mean()),
            "joint_angle_deg": float(angles[rows].mean()),
        }
    return result, angles


def evaluate_tokenizer(model: MaskHand, batch: TrainingBatch) -> dict:
    with torch.no_grad():
        indices = model.tokenizer.encode(axis_angle_to_rotation_6d(batch.pose))
        rotations = rotation_6d_to_matrix(model.tokenizer.decode(indices))
        predicted = model.hand(rotations=rotations, with_vertices=False).keypoints
        target = model.hand(batch.pose, with_vertices=False).keypoints
    angles = rotation_angle_deg(rotations.double().numpy(), axis_angle_to_matrix(batch.pose.double()).numpy())
    used = len(np.unique(indices.numpy()))
    return {"joint_angle_deg": float(angles.mean()),
            "pa_mpjpe_mm": float(pa_error_mm(predicted.double().numpy(), target.double().numpy()).mean()),
            "codes_used": used, "codebook_size": model.config.tokenizer.codebook_size,
            "codebook_use": used / model.config.tokenizer.codebook_size}


def token_accuracy(model: MaskHand, batch: TrainingBatch) -> float:
    """Share of pose tokens the transformer's arg-max gets right from the cues alone (everything masked)."""
    with torch.no_grad():
        target = model.tokenizer.encode(axis_angle_to_rotation_6d(batch.pose))
        masked = torch.full_like(target, model.mask_index)
        logits = torch.cat([model.transformer(masked[i:i + 250], batch.cues[i:i + 250])[0]
                            for i in range(0, len(target), 250)])
    return float((logits.argmax(-1) == target).float().mean())


def evaluate_maskhand(model: MaskHand, batch: TrainingBatch, occluded_hands: np.ndarray, sampling: SamplingConfig,
                      chunk: int = 250) -> tuple[dict, dict]:
    """MaskHand's accuracy on the batch with ``sampling`` (the checkpoint's config, or one overridden from it),
    and the raw figures behind it: uncertainty and spread (N, 16), angle errors (N, 16), the best-ranked row."""
    generator = torch.Generator().manual_seed(0)
    engine = TorchEngine(model)  # probes its decoder once (backend.maskhand.decoder_spread)
    results, started = [], time.perf_counter()
    for start in range(0, len(batch.cues), chunk):
        results.append(sample(engine, batch.cues[start:start + chunk], sampling, generator=generator,
                              hand=model.hand, focal_crop=model.config.focal_crop))
    seconds = time.perf_counter() - started
    betas = torch.cat([r.betas for r in results])
    uncertainty = torch.cat([r.uncertainty for r in results]).numpy()
    spread = torch.cat([r.spread for r in results]).numpy()
    metrics, angles = pose_metrics(model, torch.cat([r.pose for r in results]), betas, batch, occluded_hands)
    metrics["ms_per_hand"] = 1000 * seconds / len(betas)
    best, _ = pose_metrics(model, torch.cat([r.best_pose for r in results]), betas, batch, occluded_hands)
    best["ms_per_hand"] = metrics["ms_per_hand"]
    return metrics, {"uncertainty": uncertainty, "spread": spread, "angles": angles, "best_ranked": best}


def evaluate_baseline(folder: Path, model: MaskHand, batch: TrainingBatch, occluded_hands: np.ndarray) -> dict:
    from ..maskhand.baseline import DirectRegressor
    from ..maskhand.rotations import rotation_6d_to_axis_angle

    regressor = DirectRegressor(read_config(folder).transformer)
    load_weights(folder, {"regressor": regressor})
    regressor.eval()
    started = time.perf_counter()
    with torch.no_grad():
        rotation_6d, betas, _ = regressor(batch.cues)
    seconds = time.perf_counter() - started
    metrics, _ = pose_metrics(model, rotation_6d_to_axis_angle(rotation_6d), betas, batch, occluded_hands)
    metrics["ms_per_hand"] = 1000 * seconds / len(betas)
    return metrics


def uncertainty_quality(uncertainty: np.ndarray, spread: np.ndarray, angles: np.ndarray,
                        occluded_keypoints: np.ndarray) -> dict:
    """Per-joint uncertainty and raw spread (N, 16) vs per-joint angle error (N, 16).

    A finger joint's rotation counts as occluded when the point it moves (its child: the next
    joint, or the fingertip) has an occluded cue.
    """
    occluded_points = occluded_keypoints[:, list(OPENPOSE_TO_MANO)]                    # (N, 21), MANO + tips order
    occluded_joints = np.zeros(occluded_points.shape[:1] + (16,), dtype=bool)
    occluded_joints[:, 1:] = occluded_points[:, list(CHILD_POINT)]
    finger_joints = np.s_[:, 1:]  # the global orientation is not a finger
    rho = spearmanr(uncertainty[finger_joints].ravel(), angles[finger_joints].ravel()).statistic
    occluded = occluded_joints[finger_joints]
    rho_spread = spearmanr(spread[finger_joints].ravel(), angles[finger_joints].ravel()).statistic
    return {"spearman_rho_uncertainty_vs_error": float(rho), "spearman_rho_spread_vs_error": float(rho_spread),
            "mean_uncertainty_occluded_deg": float(uncertainty[finger_joints][occluded].mean()),
            "mean_uncertainty_visible_deg": float(uncertainty[finger_joints][~occluded].mean())}


def to_markdown(report: dict) -> str:
    lines = [f"# Evaluation of `{report['checkpoint']}`", "",
             f"Held-out synthetic set: {report['count']} hands from seed {report['seed']} (training never sees it; "
             f"{TEST_SEED} is the test set); "
             f"occluded subset: {report['maskhand_T5']['occluded']['count']} hands with an occluded or dropped finger "
             "in their 2D cues. Generated by `python -m backend.training.evaluate`.", "",
             "## VQ-MANO reconstruction", "",
             "| mean joint angle error (deg) | keypoint PA-MPJPE (mm) | codebook in use |", "|---|---|---|"]
    t = report["tokenizer"]
    lines.append(f"| {t['joint_angle_deg']:.2f} | {t['pa_mpjpe_mm']:.2f} | {t['codes_used']}/{t['codebook_size']} "
                 f"({100 * t['codebook_use']:.0f} %) |")
    lines += ["", "## Pose accuracy", "",
              "| method | subset | PA-MPJPE mm | PA-MPVPE mm | F@5 | F@15 | joint angle deg | ms/hand (CPU) |",
              "|---|---|---|---|---|---|---|---|"]
    iterations = report["iterations"]
    for key, label in (("maskhand_T1", "MaskHand T=1"), ("maskhand_T5", f"MaskHand T={iterations}"),
                       ("maskhand_T5_best_ranked", f"T={iterations}, best-ranked hypothesis alone"),
                       ("maskhand_T5_K1", f"MaskHand T={iterations}, K=1"),
                       ("baseline", "direct regression")):
        if key not in report:
            continue
        for subset in ("all", "occluded"):
            m = report[key][subset]
            lines.append(f"| {label} | {subset} | {m['pa_mpjpe_mm']:.2f} | {m['pa_mpvpe_mm']:.2f} | {m['f5']:.3f} | "
                         f"{m['f15']:.3f} | {m['joint_angle_deg']:.2f} | {report[key]['ms_per_hand']:.2f} |")
    lines += ["", f"Token accuracy of the transformer from the cues alone (all tokens masked): "
              f"{100 * report['token_accuracy']:.1f} % (chance: {100 / report['tokenizer']['codebook_size']:.1f} %)."]
    u = report["uncertainty"]
    lines += ["", f"## Uncertainty (MaskHand T={iterations})", "",
              f"- Spearman rho, per-joint uncertainty vs per-joint angle error (finger joints): "
              f"{u['spearman_rho_uncertainty_vs_error']:.3f} (the raw spread: "
              f"{u['spearman_rho_spread_vs_error']:.3f})",
              f"- mean uncertainty of occluded finger joints {u['mean_uncertainty_occluded_deg']:.2f} deg, "
              f"visible {u['mean_uncertainty_visible_deg']:.2f} deg",
              "- the spread is the angular spread of the predictive distribution around the answer: the hypotheses' "
              "RMS angle from it together with the cue-only distribution of every position carried through the "
              "decoder (`backend.maskhand.decoder_spread`); the uncertainty is the spread calibrated per joint "
              "into a typical angle error on validation seed 555 (`python -m backend.training.calibrate`)", "",
              f"Sampling: K={report['samples']} hypotheses drawn at temperature {report['temperature']}"
              f"{' (hypothesis 0 the arg-max)' if report.get('greedy_first') else ''}, ranked by token "
              "confidence and reprojection onto the cues; MaskHand's answer is their rank-weighted rotation mean "
              "(the best-ranked hypothesis alone is shown for comparison). Every position decodes from the "
              "expected code of the distribution it was committed from, so hypotheses differ only through the draws "
              "that steer later iterations: at T=1 they coincide (the uncertainty then comes from the cue-only "
              "distributions alone; a lone hypothesis, K=1, measures none). With K=1 the lone "
              "hypothesis takes the arg-max token at each iteration. F-scores use the built-in hand's mesh "
              f"({report.get('mesh_vertices', 'its')} vertices), not MANO's, so they are not comparable with the "
              "papers' FreiHAND figures.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT)
    parser.add_argument("--baseline", type=Path, default=DEFAULT_CHECKPOINT.parent / "baseline")
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--samples", type=int, help="K hypotheses (default: the checkpoint's sampling config)")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "evaluation")
    parser.add_argument("--seed", type=int, default=TEST_SEED, help="synthetic set (default: the test set)")
    parser.add_argument("--temperature", type=float, help="sampling temperature (default: the checkpoint's)")
    parser.add_argument("--greedy-first", action=argparse.BooleanOptionalAction,
                        help="hypothesis 0 takes the arg-max (default: the checkpoint's)")
    args = parser.parse_args(argv)

    torch.set_num_threads(2)
    model = MaskHand.load(args.checkpoint)
    sampling = model.config.sampling.overridden(samples=args.samples, temperature=args.temperature)
    if args.greedy_first is not None:
        sampling = dataclasses.replace(sampling, greedy_first=args.greedy_first)
    batch = held_out_set(args.count, args.seed)
    occluded_hands = batch.occluded.numpy().any(1)
    report = {"checkpoint": str(args.checkpoint.relative_to(REPO) if args.checkpoint.is_relative_to(REPO)
                                else args.checkpoint),
              "count": args.count, "seed": args.seed, "samples": sampling.samples, "iterations": sampling.iterations,
              "temperature": sampling.temperature, "greedy_first": sampling.greedy_first,
              "mesh_vertices": int(model.hand.v_template.shape[0]),
              "tokenizer": evaluate_tokenizer(model, batch), "token_accuracy": token_accuracy(model, batch)}
    report["maskhand_T1"], _ = evaluate_maskhand(model, batch, occluded_hands, sampling.overridden(iterations=1))
    report["maskhand_T5"], raw = evaluate_maskhand(model, batch, occluded_hands, sampling)
    report["maskhand_T5_best_ranked"] = raw["best_ranked"]
    # A lone greedy hypothesis: the fastest setting, and the one the pipeline bench times. (At T=1 every
    # hypothesis decodes from the same first-pass distributions, so K=1 equals the T=1 row.)
    report["maskhand_T5_K1"], _ = evaluate_maskhand(model, batch, occluded_hands, sampling.overridden(samples=1))
    report["uncertainty"] = uncertainty_quality(raw["uncertainty"], raw["spread"], raw["angles"],
                                                batch.occluded.numpy())
    if (args.baseline / "config.json").is_file():
        report["baseline"] = evaluate_baseline(args.baseline, model, batch, occluded_hands)
    else:
        print(f"no baseline at {args.baseline}: train it with `python -m backend.training.train baseline`", file=sys.stderr)
    print(to_markdown(report))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    write_markdown(report, args.out.with_suffix(".md"))
    return 0


def write_markdown(report: dict, path: Path) -> None:
    """The synthetic figures, then the real-footage section from bench/bench_real.py's last figures, if any."""
    from .evaluate_real import to_markdown as real_markdown

    markdown = to_markdown(report)
    real = json.loads(REAL_RESULTS.read_text()) if REAL_RESULTS.is_file() else None
    if real is not None and Path(report["checkpoint"]).name == real["checkpoint"]:  # the same checkpoint's figures
        markdown += "\n" + real_markdown(real)
    path.write_text(markdown)


if __name__ == "__main__":
    sys.exit(main())
