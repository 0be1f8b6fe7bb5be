"""Configurations: plain dataclasses, saved as JSON beside the weights so a checkpoint describes itself.

Where the paper is silent the choice is ours; each field says what was chosen and why.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path

CHECKPOINT_FORMAT = "maskhand-checkpoint"
CHECKPOINT_FORMAT_VERSION = 1
# When a run's K hypotheses differ from one another (``SamplingConfig.hypotheses_differ``): the backend's rule,
# which ``hello`` tells the add-on (docs/protocol.md). Hypotheses differ only through the draws that steer
# later iterations (backend.maskhand.sampling); at T=1 nothing steers, so all K coincide.
DIFFERING_HYPOTHESES = {"min_samples": 2, "min_iterations": 2}


@dataclass
class TokenizerConfig:
    """VQ-MANO: 16 joint rotations (6D) <-> ``num_tokens`` discrete codes."""

    num_tokens: int = 64          # the paper's 64 tokens: 4 per joint after upsampling the 16 joint latents
    codebook_size: int = 512      # K (not published). 64 tokens x 9 bits is far more than a hand pose needs;
                                  # 512 small codes were all in use and reconstructed best in our trials
    code_dim: int = 8             # (not published) low-dimensional codes: in 600-step trials 8-D codes gave
                                  # 7.8 mm joint error against 11.9 mm for 32-D (factorised codes, as in ViT-VQGAN)
    hidden: int = 64              # width of the 1D convolutions over joints / tokens (CPU-sized default)
    depth: int = 1                # residual conv blocks at each resolution
    ema_decay: float = 0.99       # EMA codebook updates (van den Oord et al. 2017, MoMask)
    commitment_weight: float = 0.25   # the VQ-VAE paper's beta
    dead_code_threshold: float = 1.0   # a code used less than this (EMA count) is restarted from a live latent
    joint_loss_weight: float = 20.0    # FK keypoint loss (metres) beside the rotation loss


@dataclass
class TransformerConfig:
    """The context-guided masked transformer (synthesizer) and its context encoders."""

    dim: int = 128                # CPU-sized default: trains in the 60-minute budget on 2 cores
    layers: int = 4               # synthesizer layers: self-attention, cross-attention to context, FFN
    heads: int = 4
    ffn_multiplier: int = 2
    dropout: float = 0.0          # none: every training batch is freshly generated, so nothing is seen twice and
                                  # there is nothing to overfit; at 0.1 its masks cost 12 % of a CPU training step
    cue_layers: int = 2           # GCN layers of the pose-cue encoder over the 21-keypoint skeleton
    # The cues carry MediaPipe's two 3D readings (its image landmarks' relative depth and its world landmarks)
    # beside u, v: the 2D keypoints leave each finger's bend towards the camera to the prior alone.
    # Checkpoints saved before this field read u, v only (``MaskHandConfig.from_dict``).
    landmarks_3d: bool = True
    refinement_blocks: int = 2    # anatomical refinement (GAPR) blocks over joint-wise features
    head_layers: int = 2          # cross-attention layers of the shape / camera read-out
    num_betas: int = 10
    # Image context. None for the default checkpoint (no pretrained hand image encoder is available
    # offline); "vit" for a full checkpoint: ViT on a 256x192 crop (the paper: ViT-H/16, HaMeR's backbone).
    image_encoder: str | None = None
    image_size: tuple = (256, 192)
    vit_patch: int = 16
    vit_dim: int = 1280           # ViT-H/16
    vit_layers: int = 32
    vit_heads: int = 16
    # Plain (not deformable, multi-scale) cross-attention to the context: the paper's deformable
    # attention is the target for full checkpoints; plain attention is what this version implements.
    cross_attention: str = "plain"


@dataclass
class TrainingConfig:
    seed: int = 0
    tokenizer_steps: int = 3000   # 2.4 deg / 1.4 mm on held-out poses (targets 3 deg / 2 mm; 4000 steps: 2.0 / 1.1);
                                  # the time goes to stage 2, and the whole run stays well inside 60 minutes on 2 cores
    tokenizer_batch_size: int = 256
    transformer_steps: int = 6000
    batch_size: int = 64
    learning_rate: float = 3e-4
    weight_decay: float = 0.01
    # Loss weights of stage 2 (the paper's: token CE + MANO parameters + 3D joints + 2D reprojection).
    token_weight: float = 1.0
    mano_weight: float = 1.0
    joints3d_weight: float = 20.0
    joints2d_weight: float = 5.0
    betas_weight: float = 0.05
    # Share of rows whose visible tokens are the transformer's own draws rather than the truth
    # (see backend.training.stages.self_conditioned_tokens); 0 is plain teacher forcing.
    self_conditioning: float = 0.5
    threads: int = 2
    calibration_hands: int = 2000  # validation hands the uncertainty's calibration is fitted on (training.calibrate)


@dataclass
class SamplingConfig:
    iterations: int = 5           # T, the paper's default
    samples: int = 8              # K hypotheses for uncertainty
    # Draws steer the later iterations, while every position decodes from the model's own (untempered)
    # distribution (backend.maskhand.sampling), so hotter draws only widen the steering. Chosen on validation
    # seeds (`python -m backend.training.evaluate --count 1000 --seed 777|555 [--temperature 1.0 --greedy-first]`, T=5,
    # K=8, occluded PA-MPJPE): temperature 1.5 with every hypothesis drawn gave 9.32 / 9.75 mm against
    # 9.43 / 9.88 mm at 1.0 with an arg-max hypothesis 0, at some cost in rho (0.206 / 0.218 against 0.223 / 0.220).
    temperature: float = 1.5
    # Hypothesis 0 of every hand decodes greedily (arg-max), so the mode is always among the candidates;
    # off, since it weighs the answer towards one hypothesis that is worse than the others' mean.
    # (A lone hypothesis, K = 1, always takes the arg-max.)
    greedy_first: bool = False
    # Rank hypotheses by mean token confidence plus agreement with the 2D cues (confidence-weighted
    # reprojection error, in crop units); 0 ranks by confidence alone.
    reprojection_rank_weight: float = 10.0
    # The spread through the decoder (backend.maskhand.decoder_spread) follows this many leading directions of
    # each position's code covariance: 2 of 8 ranked errors as well as all 8 (Spearman rho 0.272 both, this spread
    # alone, 1000 validation hands, seed 555) at a quarter of the decoder passes.
    uncertainty_directions: int = 2
    # Per joint (offset, slope): typical angle error = exp(offset + slope * log(spread)) - 1 degrees, fitted by
    # `python -m backend.training.calibrate` on a validation seed; None shows the spread itself.
    uncertainty_calibration: list | None = None
    # Per joint, the answer's median angle error (degrees) on the same validation hands, also written by
    # `python -m backend.training.calibrate`: how unsure an answer is whose uncertainty was not measured (K = 1), where
    # backend.capture.refine needs a width for MaskHand's prior. None: such answers are not refined.
    typical_error: list | None = None

    def __post_init__(self):
        pairs = self.uncertainty_calibration
        if pairs is not None and (len(pairs) != 16 or any(len(pair) != 2 for pair in pairs)):
            raise ValueError(f"uncertainty_calibration must be 16 (offset, slope) pairs, one per joint, not {pairs!r}")
        if self.typical_error is not None and len(self.typical_error) != 16:
            raise ValueError(f"typical_error must be 16 angles in degrees, one per joint, not {self.typical_error!r}")

    def overridden(self, samples: int | None = None, iterations: int | None = None,
                   temperature: float | None = None) -> "SamplingConfig":
        """This config with what a run asks for instead (None keeps this config's value)."""
        asked = {"samples": samples, "iterations": iterations, "temperature": temperature}
        return dataclasses.replace(self, **{name: value for name, value in asked.items() if value is not None})

    @property
    def hypotheses_differ(self) -> bool:
        """Whether the K hypotheses can differ: they differ only through the draws that steer later iterations,
        so there must be at least two of them and at least two iterations (at T=1 all K coincide)."""
        return (self.samples >= DIFFERING_HYPOTHESES["min_samples"]
                and self.iterations >= DIFFERING_HYPOTHESES["min_iterations"])


@dataclass
class MaskHandConfig:
    name: str = "maskhand-k"
    tokenizer: TokenizerConfig = field(default_factory=TokenizerConfig)
    transformer: TransformerConfig = field(default_factory=TransformerConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    sampling: SamplingConfig = field(default_factory=SamplingConfig)
    hand_model: str = "builtin"   # the hand the weights were trained with: "builtin" or "mano"
    focal_crop: float = 5000.0 / 256.0  # HaMeR's camera: focal 5000 px on a 256 px crop, in crop units

    def to_dict(self) -> dict:
        return {"format": CHECKPOINT_FORMAT, "format_version": CHECKPOINT_FORMAT_VERSION, **dataclasses.asdict(self)}

    def save(self, path: Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def from_dict(cls, data: dict) -> "MaskHandConfig":
        data = {key: value for key, value in data.items() if key not in ("format", "format_version")}
        sections = {"tokenizer": TokenizerConfig, "transformer": TransformerConfig,
                    "training": TrainingConfig, "sampling": SamplingConfig}
        for key, section in sections.items():
            values = dict(data.get(key, {}))
            if key == "transformer":
                values.setdefault("landmarks_3d", False)  # saved before the cues could carry them
            if "image_size" in values:
                values["image_size"] = tuple(values["image_size"])
            data[key] = section(**values)
        return cls(**data)
