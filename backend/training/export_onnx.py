"""Export a checkpoint's network to ONNX, for ONNX Runtime.

    python -m backend.training.export_onnx [--checkpoint DIR]     # writes DIR/onnx/*.onnx

The sampling loop (backend.maskhand.sampling) stays in Python and drives either engine; what
is exported is what it calls, one graph each: the context encoder (cues -> context, cue token),
one transformer step (tokens + context -> logits, hidden states), the shape / camera read-out
(context + hidden states -> betas, camera) and the tokenizer decoder (codes -> 6D rotations:
the loop looks codes up in the codebook, or averages them, itself). Cue-only checkpoints only:
a full checkpoint's image input is not exported yet.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
from torch import nn

from ..hand_model.layout import NUM_KEYPOINTS
from ..maskhand.model import DEFAULT_CHECKPOINT, MaskHand
from ..maskhand.onnx_engine import (CONTEXT_ENCODER, GRAPH_NAMES, ONNX_FOLDER, READ_OUT, TOKENIZER_DECODER,
                                    TRANSFORMER_STEP)

OPSET = 17


class _Call(nn.Module):
    """One method of a module as a module's forward, for torch.onnx.export (which traces ``forward``)."""

    def __init__(self, module: nn.Module, method: str):
        super().__init__()
        self.module, self.method = module, method

    def forward(self, *inputs):
        return getattr(self.module, self.method)(*inputs)


def export(checkpoint: Path) -> Path:
    model = MaskHand.load(checkpoint)
    if model.config.transformer.image_encoder is not None:
        raise ValueError(f"'{checkpoint}' conditions on images; only cue-only checkpoints are exported to ONNX")
    folder = Path(checkpoint) / ONNX_FOLDER
    folder.mkdir(exist_ok=True)
    with torch.no_grad():
        _export_graphs(model, folder)
    return folder


def _export_graphs(model: MaskHand, folder: Path) -> None:
    transformer = model.transformer
    tokens = torch.randint(0, model.mask_index + 1, (2, model.config.tokenizer.num_tokens))
    cues = torch.rand(2, NUM_KEYPOINTS, transformer.context.cues.channels)  # the graph reads exactly these
    context, cue_token = transformer.context(cues)
    logits, hidden = transformer.step(tokens, context, cue_token)
    codes = model.tokenizer.codebook[tokens.clamp_max(model.mask_index - 1)]
    graphs = (
        (CONTEXT_ENCODER, _Call(transformer, "context"), (cues,)),
        (TRANSFORMER_STEP, _Call(transformer, "step"), (tokens, context, cue_token)),
        (READ_OUT, _Call(transformer, "read_out"), (context, hidden)),
        (TOKENIZER_DECODER, _Call(model.tokenizer, "decode_codes"), (codes,)),
    )
    for name, module, inputs in graphs:
        input_names, output_names = GRAPH_NAMES[name]
        torch.onnx.export(module, inputs, folder / name, dynamo=False, input_names=input_names,
                          output_names=output_names, opset_version=OPSET,
                          dynamic_axes={axis: {0: "batch"} for axis in input_names + output_names})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT)
    args = parser.parse_args(argv)
    print(f"exported to {export(args.checkpoint)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
