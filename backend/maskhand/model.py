"""MaskHand: the tokenizer, the masked transformer and the hand model, and their checkpoint.

A checkpoint is a folder: ``config.json`` (``MaskHandConfig``, marked with our format name
and version) and ``model.safetensors`` (tokenizer + transformer weights, metadata naming the
same format). Loading refuses anything else with a message that says what it found.
"""
from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from torch import nn

from ..hand_model import load_hand_model
from .config import CHECKPOINT_FORMAT, CHECKPOINT_FORMAT_VERSION, MaskHandConfig
from .tokenizer import VQMano
from .transformer import MaskedPoseTransformer

DEFAULT_CHECKPOINT = Path(__file__).resolve().parent.parent / "weights" / "maskhand-k"
CONFIG_FILE, WEIGHTS_FILE = "config.json", "model.safetensors"


class CheckpointError(Exception):
    """A checkpoint folder that is missing, unreadable or not ours."""


class MaskHand(nn.Module):
    def __init__(self, config: MaskHandConfig, mano_folder: str | Path | None = None):
        super().__init__()
        self.config = config
        self.tokenizer = VQMano(config.tokenizer)
        self.transformer = MaskedPoseTransformer(config.transformer, config.tokenizer)
        if config.hand_model == "mano" and mano_folder is None:
            raise CheckpointError(f"checkpoint '{config.name}' was trained with MANO: set the MANO folder "
                                  "(MANO_RIGHT.pkl, MANO_LEFT.pkl) to use it")
        # The network works on right hands; left ones are mirrored in and out (backend.training.data.training_batch).
        self.hand = load_hand_model("right", mano_folder if config.hand_model == "mano" else None)

    @property
    def mask_index(self) -> int:
        return self.transformer.mask_index

    def soft_decode(self, logits: torch.Tensor) -> torch.Tensor:
        """Logits (B, L, K) -> 6D rotations (B, 16, 6) through the softmax-weighted codebook mean."""
        return self.tokenizer.decode_codes(logits.softmax(-1) @ self.tokenizer.codebook)

    def save(self, folder: Path) -> None:
        save_weights(folder, self.config, {"tokenizer": self.tokenizer, "transformer": self.transformer})

    @classmethod
    def load(cls, folder: str | Path = DEFAULT_CHECKPOINT, mano_folder: str | Path | None = None,
             device: str | torch.device = "cpu") -> "MaskHand":
        model = cls(read_config(folder), mano_folder)
        load_weights(folder, {"tokenizer": model.tokenizer, "transformer": model.transformer})
        return model.to(device).eval()


def save_weights(folder: Path, config: MaskHandConfig, parts: dict[str, nn.Module]) -> None:
    """Write ``config.json`` and ``model.safetensors`` holding each part's state under "<part>."."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    config.save(folder / CONFIG_FILE)
    tensors = {f"{name}.{key}": value.contiguous() for name, module in parts.items()
               for key, value in module.state_dict().items()}
    save_file(tensors, folder / WEIGHTS_FILE,
              metadata={"format": CHECKPOINT_FORMAT, "format_version": str(CHECKPOINT_FORMAT_VERSION)})


def load_weights(folder: str | Path, parts: dict[str, nn.Module]) -> None:
    """Fill each part from ``model.safetensors``; every tensor must match (strict)."""
    weights = Path(folder) / WEIGHTS_FILE
    try:
        with safe_open(weights, "pt") as file:
            metadata = file.metadata() or {}
        tensors = load_file(weights)
    except (SafetensorError, OSError) as error:
        raise CheckpointError(f"'{weights}' is not readable as safetensors weights: {error}") from None
    if metadata.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"'{weights}' is a safetensors file but not MaskHand weights "
                              f"(its metadata names no \"{CHECKPOINT_FORMAT}\" format)")
    for name, module in parts.items():
        prefix = f"{name}."
        part = {key[len(prefix):]: value for key, value in tensors.items() if key.startswith(prefix)}
        try:
            missing, unexpected = module.load_state_dict(part, strict=False)
        except RuntimeError as error:  # tensors of the wrong shape
            raise CheckpointError(f"'{weights}' does not match its {CONFIG_FILE} ({name}): "
                                  f"{str(error).strip().splitlines()[-1].strip()}") from None
        if missing or unexpected:
            raise CheckpointError(f"'{weights}' does not match its {CONFIG_FILE} ({name}): "
                                  f"missing {missing[:3]}, unexpected {unexpected[:3]}")


def read_config(folder: str | Path) -> MaskHandConfig:
    folder = Path(folder)
    path = folder / CONFIG_FILE
    if not folder.is_dir() or not path.is_file() or not (folder / WEIGHTS_FILE).is_file():
        raise CheckpointError(f"no MaskHand checkpoint at '{folder}': a checkpoint is a folder with {CONFIG_FILE} "
                              f"and {WEIGHTS_FILE} (the bundled default is {DEFAULT_CHECKPOINT})")
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise CheckpointError(f"'{path}' is not valid JSON: {error}") from None
    if not isinstance(data, dict) or data.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"'{path}' is not a MaskHand checkpoint config (no \"format\": \"{CHECKPOINT_FORMAT}\")")
    if data.get("format_version") != CHECKPOINT_FORMAT_VERSION:
        raise CheckpointError(f"'{path}' has checkpoint format version {data.get('format_version')}; this backend "
                              f"reads version {CHECKPOINT_FORMAT_VERSION}: update the backend or re-export the checkpoint")
    try:
        return MaskHandConfig.from_dict(data)
    except TypeError as error:
        raise CheckpointError(f"'{path}' has settings this backend does not know: {error}") from None
    except ValueError as error:
        raise CheckpointError(f"'{path}' has a setting out of range: {error}") from None

