"""Full MaskHand training (image + 2D cues) on real datasets; on CUDA when present.

    python -m backend.training.train_full --freihand DIR [--ho3d DIR] --mano DIR [--out DIR]

Reuses the default checkpoint's VQ-MANO (frozen, as in the paper's stage 2) and trains the
context-guided transformer with a ViT image encoder on FreiHAND and/or HO3D, with stage 2's losses
and loop (backend.training.stages). Needs the user's MANO files (the datasets' poses are MANO's).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from ..hand_model import load_mano_data
from ..maskhand.config import MaskHandConfig, TransformerConfig
from ..maskhand.model import DEFAULT_CHECKPOINT, MaskHand, load_weights, read_config
from .data.freihand import FreiHandDataset
from .data.ho3d import Ho3dDataset
from .data.training_batch import collate_training_items
from .stages import set_determinism, train_stage2, transformer_losses


def full_config(tokenizer_checkpoint: Path, args: argparse.Namespace) -> MaskHandConfig:
    base = read_config(tokenizer_checkpoint)
    transformer = TransformerConfig(image_encoder="vit")
    for field in ("dim", "layers", "heads", "vit_dim", "vit_layers", "vit_heads"):
        value = getattr(args, field, None)
        if value is not None:
            setattr(transformer, field, value)
    config = MaskHandConfig(name="maskhand-full", tokenizer=base.tokenizer, transformer=transformer,
                            training=base.training, sampling=base.sampling, hand_model="mano")
    for field in ("seed", "transformer_steps", "batch_size"):
        value = getattr(args, field, None)
        if value is not None:
            setattr(config.training, field, value)
    return config


def infinite(loader):
    while True:
        yield from loader


def train_full(freihand: Path | None, ho3d: Path | None, tokenizer_checkpoint: Path, out: Path,
               args: argparse.Namespace) -> MaskHand:
    if args.mano is None:
        raise SystemExit("full training needs --mano: the folder with your MANO_RIGHT.pkl and MANO_LEFT.pkl")
    config = full_config(tokenizer_checkpoint, args)
    training = config.training
    set_determinism(training.seed, training.threads)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model = MaskHand(config, mano_folder=args.mano)
    load_weights(tokenizer_checkpoint, {"tokenizer": model.tokenizer})
    model.tokenizer.requires_grad_(False)
    model.tokenizer.eval()
    model.to(device)

    hands_mean = load_mano_data(args.mano, "right").hands_mean
    if freihand and hands_mean is None:
        raise SystemExit(f"'{args.mano}/MANO_RIGHT.pkl' has no hands_mean, which FreiHAND's poses need")
    datasets = ([FreiHandDataset(freihand, hands_mean, training.seed)] if freihand else []) + \
               ([Ho3dDataset(ho3d, seed=training.seed)] if ho3d else [])
    loader = torch.utils.data.DataLoader(torch.utils.data.ConcatDataset(datasets), batch_size=training.batch_size,
                                         shuffle=True, collate_fn=collate_training_items, drop_last=False,
                                         num_workers=getattr(args, "workers", 0),
                                         generator=torch.Generator().manual_seed(training.seed))
    generator = torch.Generator(device=device).manual_seed(training.seed + 1)
    batches = (batch.to(device) for batch in infinite(loader))
    train_stage2(model, model.transformer, lambda batch: transformer_losses(model, batch, generator), batches, "full")
    model.to("cpu").save(out)
    return model


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--freihand", type=Path, help="FreiHAND root (training_xyz.json, training_mano.json, ...)")
    parser.add_argument("--ho3d", type=Path, help="HO3D root (train/<sequence>/meta, rgb)")
    parser.add_argument("--mano", type=Path, help="folder with MANO_RIGHT.pkl / MANO_LEFT.pkl")
    parser.add_argument("--tokenizer", type=Path, default=DEFAULT_CHECKPOINT,
                        help="checkpoint whose VQ-MANO is reused, frozen (default: the shipped one)")
    parser.add_argument("--out", type=Path, default=Path("checkpoints/maskhand-full"))
    parser.add_argument("--seed", type=int)
    parser.add_argument("--transformer-steps", type=int)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--workers", type=int, default=0, help="data loader processes")
    for field in ("dim", "layers", "heads", "vit-dim", "vit-layers", "vit-heads"):
        parser.add_argument(f"--{field}", type=int, help="transformer / ViT size (default: the config's)")
    args = parser.parse_args(argv)
    if args.freihand is None and args.ho3d is None:
        parser.error("full training needs --freihand and/or --ho3d")
    train_full(args.freihand, args.ho3d, args.tokenizer, args.out, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
