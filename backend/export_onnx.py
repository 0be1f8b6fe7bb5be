"""Export a checkpoint's transformer step and tokenizer decoder to ONNX, for ONNX Runtime.

    python -m backend.export_onnx [--checkpoint DIR]     # writes DIR/onnx/{transformer_step,tokenizer_decoder}.onnx

The sampling loop (backend.maskhand.sampling) stays in Python and drives either engine;
what is exported is what it calls: one transformer step (tokens + cues -> logits, betas,
camera) and the decoder (codes -> 6D rotations: the sampling loop looks codes up in the
codebook, or averages them, itself). Cue-only checkpoints only: a full
checkpoint's image input is not exported yet.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
from torch import nn

from .hand_model.layout import NUM_KEYPOINTS
from .maskhand.model import DEFAULT_CHECKPOINT, MaskHand

ONNX_FOLDER = "onnx"
TRANSFORMER_STEP, TOKENIZER_DECODER = "transformer_step.onnx", "tokenizer_decoder.onnx"
OPSET = 17


class TransformerStep(nn.Module):
    def __init__(self, model: MaskHand):
        super().__init__()
        self.transformer = model.transformer

    def forward(self, tokens, cues):
        return self.transformer(tokens, cues)


class TokenizerDecoder(nn.Module):
    def __init__(self, model: MaskHand):
        super().__init__()
        self.tokenizer = model.tokenizer

    def forward(self, codes):
        return self.tokenizer.decode_codes(codes)


def export(checkpoint: Path) -> Path:
    model = MaskHand.load(checkpoint)
    if model.config.transformer.image_encoder is not None:
        raise ValueError(f"'{checkpoint}' conditions on images; only cue-only checkpoints are exported to ONNX")
    folder = Path(checkpoint) / ONNX_FOLDER
    folder.mkdir(exist_ok=True)
    length = model.config.tokenizer.num_tokens
    tokens = torch.randint(0, model.mask_index + 1, (2, length))
    cues = torch.rand(2, NUM_KEYPOINTS, 3)
    batch = {0: "batch"}
    # nn.MultiheadAttention's fused inference kernel has no ONNX symbolic; export the plain path.
    fastpath = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        _export_both(model, folder, tokens, cues, batch)
    finally:
        torch.backends.mha.set_fastpath_enabled(fastpath)
    return folder


def _export_both(model: MaskHand, folder: Path, tokens: torch.Tensor, cues: torch.Tensor, batch: dict) -> None:
    with torch.no_grad():
        torch.onnx.export(TransformerStep(model), (tokens, cues), folder / TRANSFORMER_STEP, dynamo=False,
                          input_names=["tokens", "cues"], output_names=["logits", "betas", "camera"],
                          dynamic_axes={"tokens": batch, "cues": batch, "logits": batch, "betas": batch,
                                        "camera": batch}, opset_version=OPSET)
        codes = model.tokenizer.codebook[tokens.clamp_max(model.mask_index - 1)]
        torch.onnx.export(TokenizerDecoder(model), (codes,),
                          folder / TOKENIZER_DECODER, dynamo=False, input_names=["codes"],
                          output_names=["rotation_6d"], dynamic_axes={"codes": batch, "rotation_6d": batch},
                          opset_version=OPSET)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT)
    args = parser.parse_args(argv)
    print(f"exported to {export(args.checkpoint)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
