"""The sampling engine over ONNX Runtime sessions (see backend.export_onnx).

CUDA's execution provider is used when asked for and present, else the CPU's; inputs and
outputs are torch tensors, so ``backend.maskhand.sampling.sample`` runs unchanged.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime
import torch
from safetensors import safe_open

from ..export_onnx import ONNX_FOLDER, TOKENIZER_DECODER, TRANSFORMER_STEP
from .model import WEIGHTS_FILE, read_config


class OnnxEngine:
    def __init__(self, checkpoint: str | Path, device: str = "cpu", threads: int = 0):
        folder = Path(checkpoint) / ONNX_FOLDER
        missing = [name for name in (TRANSFORMER_STEP, TOKENIZER_DECODER) if not (folder / name).is_file()]
        if missing:
            raise FileNotFoundError(f"ONNX models {missing} not found in '{folder}': run "
                                    f"`python -m backend.export_onnx --checkpoint {checkpoint}`")
        config = read_config(checkpoint)
        self.mask_index = config.tokenizer.codebook_size
        self.num_tokens = config.tokenizer.num_tokens
        with safe_open(Path(checkpoint) / WEIGHTS_FILE, "pt") as weights:
            self.codebook = weights.get_tensor("tokenizer.quantizer.codebook")
        providers = ["CPUExecutionProvider"]
        if device == "cuda" and "CUDAExecutionProvider" in onnxruntime.get_available_providers():
            providers.insert(0, "CUDAExecutionProvider")
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        self.step_session = onnxruntime.InferenceSession(str(folder / TRANSFORMER_STEP), options, providers=providers)
        self.decoder_session = onnxruntime.InferenceSession(str(folder / TOKENIZER_DECODER), options,
                                                            providers=providers)

    def step(self, tokens: torch.Tensor, cues: torch.Tensor, image: torch.Tensor | None = None):
        if image is not None:
            raise ValueError("the ONNX engine runs cue-only checkpoints; use the torch engine for image input")
        outputs = self.step_session.run(None, {"tokens": tokens.numpy().astype(np.int64),
                                               "cues": cues.numpy().astype(np.float32)})
        return tuple(torch.from_numpy(output) for output in outputs)

    def decode_codes(self, codes: torch.Tensor) -> torch.Tensor:
        (rotation_6d,) = self.decoder_session.run(None, {"codes": codes.numpy().astype(np.float32)})
        return torch.from_numpy(rotation_6d)
