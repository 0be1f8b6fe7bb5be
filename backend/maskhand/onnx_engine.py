"""The sampling engine over ONNX Runtime sessions, and the names of the graphs it runs (written by
backend.training.export_onnx).

CUDA's execution provider is used when asked for and present, else the CPU's; inputs and
outputs are torch tensors, so ``backend.maskhand.sampling.sample`` runs unchanged.
"""
from __future__ import annotations

from pathlib import Path

import onnxruntime
import torch
from safetensors import safe_open

from .decoder_spread import DecoderSpread
from .model import WEIGHTS_FILE, read_config

# A checkpoint's ONNX graphs: one per call the sampling loop makes, with the input and output names each takes.
ONNX_FOLDER = "onnx"
CONTEXT_ENCODER, TRANSFORMER_STEP = "context_encoder.onnx", "transformer_step.onnx"
READ_OUT, TOKENIZER_DECODER = "read_out.onnx", "tokenizer_decoder.onnx"
GRAPH_NAMES = {  # graph -> (input names, output names)
    CONTEXT_ENCODER: (["cues"], ["context", "cue_token"]),
    TRANSFORMER_STEP: (["tokens", "context", "cue_token"], ["logits", "hidden"]),
    READ_OUT: (["context", "hidden"], ["betas", "camera"]),
    TOKENIZER_DECODER: (["codes"], ["rotation_6d"]),
}


class OnnxEngine:
    def __init__(self, checkpoint: str | Path, device: str = "cpu", threads: int = 0):
        folder = Path(checkpoint) / ONNX_FOLDER
        missing = [name for name in GRAPH_NAMES if not (folder / name).is_file()]
        if missing:
            raise FileNotFoundError(f"ONNX models {missing} not found in '{folder}': run "
                                    f"`python -m backend.training.export_onnx --checkpoint {checkpoint}`")
        config = read_config(checkpoint)
        self.mask_index = config.tokenizer.codebook_size
        self.num_tokens = config.tokenizer.num_tokens
        with safe_open(Path(checkpoint) / WEIGHTS_FILE, "pt") as weights:
            self.codebook = weights.get_tensor("tokenizer.quantizer.codebook")
        self.providers = ["CPUExecutionProvider"]
        if device == "cuda" and "CUDAExecutionProvider" in onnxruntime.get_available_providers():
            self.providers.insert(0, "CUDAExecutionProvider")
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        self.sessions = {name: onnxruntime.InferenceSession(str(folder / name), options, providers=self.providers)
                         for name in GRAPH_NAMES}
        self.decoder_spread = DecoderSpread(self, config.tokenizer.num_tokens, config.tokenizer.code_dim)

    @property
    def device(self) -> str:
        providers = self.sessions[TRANSFORMER_STEP].get_providers()
        return "cuda" if "CUDAExecutionProvider" in providers else "cpu"

    def _run(self, graph: str, **inputs) -> tuple:
        outputs = self.sessions[graph].run(None, {name: value.numpy() for name, value in inputs.items()})
        return tuple(torch.from_numpy(output) for output in outputs)

    def encode(self, cues: torch.Tensor, image: torch.Tensor | None = None):
        if image is not None:
            raise ValueError("the ONNX engine runs cue-only checkpoints; use the torch engine for image input")
        channels = self.sessions[CONTEXT_ENCODER].get_inputs()[0].shape[-1]  # 3, or 7 with MediaPipe's 3D readings
        if cues.shape[-1] < channels:
            raise ValueError(f"this checkpoint reads {channels} cue channels per keypoint (MediaPipe's depth and "
                             f"world landmarks beside u, v, confidence), the cues have {cues.shape[-1]}")
        return self._run(CONTEXT_ENCODER, cues=cues[..., :channels].float())

    def step(self, tokens: torch.Tensor, context: torch.Tensor, cue_token: torch.Tensor):
        return self._run(TRANSFORMER_STEP, tokens=tokens.long(), context=context, cue_token=cue_token)

    def read_out(self, context: torch.Tensor, hidden: torch.Tensor):
        return self._run(READ_OUT, context=context, hidden=hidden)

    def decode_codes(self, codes: torch.Tensor) -> torch.Tensor:
        return self._run(TOKENIZER_DECODER, codes=codes.float())[0]
