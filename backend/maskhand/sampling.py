"""Confidence-guided iterative decoding (MaskGIT-style), K hypotheses, per-joint uncertainty.

Start with every pose token masked. At iteration t of T, predict all masked tokens (drawn at
``temperature``; 0 or below, and a lone hypothesis (K = 1) whatever the temperature, take the
arg-max of the model's own distribution), keep the most confident ones and re-mask the rest,
so that ``ceil(cosine_schedule(t / T) * L)`` tokens stay masked: the same cosine schedule
the transformer is trained with. K hypotheses run side by side as one batch.

Poses are decoded the way training decodes, through the frozen decoder from expected codes
rather than single tokens: every position is decoded from the distribution it was committed
from (the softmax-weighted codebook mean at that iteration), while its draw is what steers the
later iterations. That is the draw's Rao-Blackwellised form: a wrong draw no longer drags its own
position with it, and no pass is needed beyond the T iterations. On the held-out test set
(``python -m backend.training.evaluate``, occluded hands, PA-MPJPE) T=5, K=8 went from 10.23 to 9.88 mm
(temperature 1.0, hypothesis 0 greedy; 9.78 mm with the checkpoint's sampling config) and a lone
greedy hypothesis (T=5, K=1) from 10.83 to 10.17 mm, against one more pass over all committed
tokens (K > 1) or decoding the last iteration's logits (K = 1); rho between the hypotheses' spread
and the error went from 0.19 to 0.23 (0.21 with the checkpoint's config).

Hypotheses therefore differ only through the draws that steer later iterations: at T=1 nothing
steers, and all K coincide. They are ranked by mean token confidence and agreement with the 2D cues,
and the answer is their rank-weighted rotation mean.

Uncertainty. The *spread* is the angular spread of the predictive distribution around the answer,
per joint: the hypotheses' RMS angle from it (how far the steering moves each joint), combined in
quadrature with how far each joint would move if every position took another code from the model's
distribution given the cues alone (the first iteration's, everything masked), carried through the
decoder (``decoder_spread``). On 2 x 1000 validation hands (seeds 555, 777) the first part alone is
about 1.6 degrees and ranks per-joint errors with Spearman rho 0.20; with the second, 0.28, at 8
degrees against a mean error of 11. (The spread of the distributions the positions were committed
from, which later iterations have narrowed by the steering, ranked them at 0.25.) The *uncertainty*
the add-on shows is the spread calibrated per joint into a typical angle error in degrees
(``calibrated_error``; fitted by ``backend.training.calibrate`` on a validation seed and kept in the checkpoint's
config): joints differ in how much error a degree of spread means (the thumb's spread barely tracks
its error), which a ranking across joints needs. A lone hypothesis (K = 1), the fastest setting,
measures no uncertainty: the decoder probes would cost it about as much again.

The network is reached through an *engine*, so the same loop drives torch and ONNX Runtime.
The context is encoded once per hand (not per iteration or hypothesis), and the shape / camera
read-out runs once, after the last pass.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import torch

from .config import SamplingConfig
from .decoder_spread import DecoderSpread
from .heads import camera_translation, project
from .rotations import chordal_mean, geodesic_angle, matrix_to_axis_angle, rotation_6d_to_matrix


def cosine_schedule(progress: torch.Tensor | float):
    """gamma(tau) = cos(pi * tau / 2): the share of tokens masked at progress tau in [0, 1]."""
    if isinstance(progress, torch.Tensor):
        return torch.cos(math.pi * progress / 2)
    return math.cos(math.pi * progress / 2)


def random_training_mask(batch: int, length: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """(batch, length) bool: ceil(gamma(tau) * L) random tokens masked per row, tau ~ U(0, 1)."""
    device = generator.device if generator is not None else None
    tau = torch.rand(batch, generator=generator, device=device)
    count = torch.ceil(cosine_schedule(tau) * length).clamp(1, length)
    ranks = torch.rand(batch, length, generator=generator, device=device).argsort(1).argsort(1)
    return ranks < count[:, None]


class Engine(Protocol):
    mask_index: int
    num_tokens: int
    codebook: torch.Tensor  # (K, D)
    decoder_spread: DecoderSpread  # code distributions carried through this engine's decoder (the uncertainty)

    def encode(self, cues: torch.Tensor, image: torch.Tensor | None = None):
        """cues (B, 21, 3) [+ image] -> context (B, M, C), cue token (B, C)."""

    def step(self, tokens: torch.Tensor, context: torch.Tensor, cue_token: torch.Tensor):
        """tokens (B, L) int64 -> logits (B, L, K), hidden states (B, L + 1, C)."""

    def read_out(self, context: torch.Tensor, hidden: torch.Tensor):
        """-> betas (B, 10), camera (B, 3)."""

    def decode_codes(self, codes: torch.Tensor) -> torch.Tensor:
        """codes (B, L, D) -> 6D rotations (B, 16, 6)."""


@dataclass
class SamplingResult:
    """For B hands and K hypotheses each."""

    pose: torch.Tensor              # (B, 16, 3) axis-angle: the rank-weighted mean of the hypotheses
    betas: torch.Tensor             # (B, 10) of the best-ranked hypothesis
    camera: torch.Tensor            # (B, 3) weak-perspective (s, tx, ty), best-ranked hypothesis
    best_pose: torch.Tensor         # (B, 16, 3) the best-ranked hypothesis alone
    samples: torch.Tensor           # (B, K, 16, 3) every hypothesis
    sample_scores: torch.Tensor     # (B, K) ranking score (higher is better)
    sample_betas: torch.Tensor      # (B, K, 10)
    sample_camera: torch.Tensor     # (B, K, 3)
    token_confidence: torch.Tensor  # (B, L) probability of each committed token, best hypothesis
    spread: torch.Tensor            # (B, 16) degrees: spread of the predictive distribution around ``pose``
    uncertainty: torch.Tensor       # (B, 16) degrees: typical angle error, the calibrated spread
    tokens: torch.Tensor            # (B, L) the best hypothesis's committed tokens


@torch.no_grad()
def sample(engine: Engine, cues: torch.Tensor, config: SamplingConfig, *, generator: torch.Generator | None = None,
           hand=None, focal_crop: float = 5000 / 256, image: torch.Tensor | None = None) -> SamplingResult:
    """Decode poses for cues (B, 21, 3) [and image crops (B, 3, H, W)] with ``config``'s T iterations, K samples,
    temperature, ranking and uncertainty. ``hand`` (a right ``HandModel``) is needed only when
    ``config.reprojection_rank_weight`` > 0, to rank hypotheses by how well they reproject onto the cues
    (``focal_crop``: the checkpoint's crop camera)."""
    iterations, samples = config.iterations, config.samples
    if iterations < 1 or samples < 1:
        raise ValueError(f"iterations and samples must be at least 1 (got {iterations}, {samples})")
    batch, device = cues.shape[0], cues.device
    cues_k = cues.repeat_interleave(samples, 0)                                        # (B*K, 21, 3)
    context, cue_token = (state.repeat_interleave(samples, 0) for state in engine.encode(cues, image))
    tokens, confidence, codes, cue_belief, hidden = commit_tokens(engine, context, cue_token, iterations, samples,
                                                                  config.temperature, generator, config.greedy_first)
    betas, camera = engine.read_out(context, hidden)
    rotation_6d = engine.decode_codes(codes)                                           # (B*K, 16, 6)
    scores = confidence.clamp_min(1e-9).log().mean(1)                                  # (B*K,)
    if config.reprojection_rank_weight > 0 and samples > 1:  # one hypothesis has nothing to be ranked against
        scores = scores - config.reprojection_rank_weight * reprojection_error(hand, rotation_6d, betas, camera,
                                                                              cues_k, focal_crop)
    scores = scores.view(batch, samples)
    best = scores.argmax(1)                                                            # (B,)
    rows = torch.arange(batch, device=device)
    matrices = rotation_6d_to_matrix(rotation_6d).view(batch, samples, 16, 3, 3)
    consensus = chordal_mean(matrices, scores.softmax(1))                              # (B, 16, 3, 3)
    pick = lambda tensor: tensor.view(batch, samples, *tensor.shape[1:])[rows, best]  # noqa: E731
    if samples > 1:
        hypotheses_spread = torch.rad2deg(geodesic_angle(matrices, consensus[:, None])).square().mean(1).sqrt()
        cue_spread = engine.decoder_spread(*code_moments(cue_belief, engine.codebook), config.uncertainty_directions)
        spread = torch.hypot(hypotheses_spread, cue_spread)
        uncertainty = calibrated_error(spread, config.uncertainty_calibration)
    else:  # the fastest setting measures nothing: the probes through the decoder would double its time
        spread = uncertainty = torch.zeros(batch, 16, device=device)
    poses = matrix_to_axis_angle(matrices)
    return SamplingResult(pose=matrix_to_axis_angle(consensus), betas=pick(betas), camera=pick(camera),
                          best_pose=poses[rows, best], samples=poses, sample_scores=scores,
                          sample_betas=betas.view(batch, samples, -1), sample_camera=camera.view(batch, samples, 3),
                          token_confidence=pick(confidence), spread=spread, uncertainty=uncertainty,
                          tokens=pick(tokens))


def code_moments(belief: torch.Tensor, codebook: torch.Tensor):
    """belief (B, L, C) over the codebook (C, D) -> expected codes (B, L, D), their covariance (B, L, D, D)."""
    centre = codebook.mean(0)
    centred = codebook - centre  # E[cc^T] - mu mu^T cancels less in float32 about the codebook's mean
    expected = belief @ centred
    second = (belief @ (centred[:, :, None] * centred[:, None]).flatten(1)).unflatten(-1, codebook.shape[1:] * 2)
    return expected + centre, second - expected[..., :, None] * expected[..., None, :]


def calibrated_error(spread: torch.Tensor, calibration) -> torch.Tensor:
    """Spread (B, 16) degrees -> typical angle error (B, 16) degrees, per joint j
    ``exp(offset_j + slope_j * log(spread)) - 1`` (``calibration``: 16 (offset, slope) pairs fitted on
    log(1 + error) by ``backend.training.calibrate``, so near the median error); without one, the spread itself."""
    if calibration is None:
        return spread
    offset, slope = torch.as_tensor(calibration, dtype=spread.dtype, device=spread.device).unbind(-1)
    return torch.expm1(offset + slope * spread.clamp_min(1e-3).log()).clamp_min(0)


def candidates(result: SamplingResult):
    """The answer first, then the K hypotheses, for a chooser over time (backend.capture.temporal):
    poses (B, K+1, 16, 3), scores (B, K+1) (the answer scores as the best hypothesis), betas (B, K+1, 10)."""
    best = result.sample_scores.max(1, keepdim=True).values
    return (torch.cat([result.pose[:, None], result.samples], 1), torch.cat([best, result.sample_scores], 1),
            torch.cat([result.betas[:, None], result.sample_betas], 1))


def commit_tokens(engine: Engine, context: torch.Tensor, cue_token: torch.Tensor, iterations: int, samples: int,
                  temperature: float, generator: torch.Generator | None, greedy_first: bool):
    """The T confidence-guided iterations for N = B*K rows -> committed tokens (N, L), their probabilities
    (N, L) (of the tempered distribution they were drawn from when K > 1, of the model's own when K = 1;
    they order the re-masking and the ranking), the expected code each position was committed from
    (N, L, D), the first iteration's distribution over the codebook for each hand (B, L, C), from the
    cues alone, and the last iteration's hidden states from ``engine.step`` (for the shape / camera read-out)."""
    rows, length, device = context.shape[0], engine.num_tokens, context.device
    tokens = torch.full((rows, length), engine.mask_index, dtype=torch.long, device=device)
    confidence = torch.zeros(rows, length, device=device)
    codes = torch.zeros(rows, length, engine.codebook.shape[1], device=device)
    for iteration in range(1, iterations + 1):
        logits, hidden = engine.step(tokens, context, cue_token)
        masked = tokens == engine.mask_index
        belief = logits.softmax(-1)
        if iteration == 1:  # all masked: each hand's K rows see the same input
            cue_belief = belief[::samples]
        if temperature > 0 and samples > 1:  # a lone hypothesis takes the arg-max: it has nothing to be averaged with
            probabilities = (logits / temperature).softmax(-1) if temperature != 1 else belief
            drawn = draw_categorical(probabilities, generator)
            if greedy_first:  # hypothesis 0 of every hand takes the arg-max: the mode is always a candidate
                per_hand = probabilities.view(-1, samples, length, probabilities.shape[-1])
                drawn.view(-1, samples, length)[:, 0] = per_hand[:, 0].argmax(-1)
            drawn_confidence = probabilities.gather(-1, drawn[..., None]).squeeze(-1)
        else:
            drawn_confidence, drawn = belief.max(-1)  # one pass; argmax + gather took 3x as long
        tokens = torch.where(masked, drawn, tokens)
        confidence = torch.where(masked, drawn_confidence, confidence)
        # Positions decode from the model's belief, not the tempered distribution the draw came from;
        # re-masked positions are overwritten when they are committed again.
        expected = belief @ engine.codebook
        codes = torch.where(masked[..., None], expected, codes)
        remask = math.ceil(cosine_schedule(iteration / iterations) * length) if iteration < iterations else 0
        remask = min(remask, int(masked.sum(1).min()) - 1)  # every iteration fixes at least one token
        if remask > 0:
            # Only tokens chosen in this iteration may be re-masked; earlier choices are final.
            ranking = torch.where(masked, confidence, torch.full_like(confidence, math.inf))
            lowest = ranking.argsort(1)[:, :remask]
            tokens.scatter_(1, lowest, engine.mask_index)
            confidence.scatter_(1, lowest, 0.0)
    return tokens, confidence, codes, cue_belief, hidden


def draw_categorical(probabilities: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """One index per row of (..., K) probabilities, by inverse CDF: one uniform number per row.
    (``torch.multinomial`` draws K exponentials per row; at 512 codes that was a third of the sampler's time.)"""
    cumulative = probabilities.cumsum(-1)
    uniform = torch.rand(cumulative.shape[:-1] + (1,), generator=generator, device=cumulative.device)
    drawn = torch.searchsorted(cumulative, uniform * cumulative[..., -1:], right=True)
    return drawn.squeeze(-1).clamp_max(probabilities.shape[-1] - 1)


def reprojection_error(hand, rotation_6d, betas, camera, cues, focal_crop: float) -> torch.Tensor:
    """Confidence-weighted mean distance (crop units) between reprojected keypoints and the cues: (N,)."""
    keypoints = hand(rotations=rotation_6d_to_matrix(rotation_6d), betas=betas, with_vertices=False).keypoints
    projected = project(keypoints, camera_translation(camera, focal_crop), focal_crop)
    weight = cues[..., 2]
    distance = (projected - cues[..., :2]).norm(dim=-1)
    return (weight * distance).sum(1) / weight.sum(1).clamp_min(1e-6)


class TorchEngine:
    """The engine protocol over a ``MaskHand`` module."""

    def __init__(self, model):
        self.model = model
        self.mask_index = model.mask_index
        self.num_tokens = model.config.tokenizer.num_tokens
        self.codebook = model.tokenizer.codebook
        self.decoder_spread = DecoderSpread(self, self.num_tokens, model.config.tokenizer.code_dim)

    def encode(self, cues, image=None):
        return self.model.transformer.context(cues, image)

    def step(self, tokens, context, cue_token):
        return self.model.transformer.step(tokens, context, cue_token)

    def read_out(self, context, hidden):
        return self.model.transformer.read_out(context, hidden)

    def decode_codes(self, codes):
        return self.model.tokenizer.decode_codes(codes)
