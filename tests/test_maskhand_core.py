"""MaskHand's parts on small configurations: shapes, determinism, schedule, sampling, checkpoints."""
import json
import math

import pytest
import torch

from backend.context.pose_cues import CUE_CHANNELS_3D
from backend.maskhand.config import (DIFFERING_HYPOTHESES, MaskHandConfig, SamplingConfig, TokenizerConfig,
                                     TransformerConfig)
from backend.maskhand.heads import attend
from backend.maskhand.model import CheckpointError, MaskHand, save_weights
from backend.maskhand.rotations import axis_angle_to_matrix, chordal_mean, rotation_6d_to_matrix
from backend.maskhand.sampling import (TorchEngine, candidates, cosine_schedule, draw_categorical,
                                       random_training_mask, sample)


def small_config() -> MaskHandConfig:
    return MaskHandConfig(name="test", tokenizer=TokenizerConfig(codebook_size=32, code_dim=4, hidden=16),
                          transformer=TransformerConfig(dim=32, layers=1, heads=2, cue_layers=1, refinement_blocks=1,
                                                        head_layers=1))


def small_model(seed: int = 0) -> MaskHand:
    torch.manual_seed(seed)
    return MaskHand(small_config()).eval()


def plain(**fields) -> SamplingConfig:
    """Sampling at temperature 1, ranked by token confidence alone (these untrained hands reproject nowhere)."""
    return SamplingConfig(**{"temperature": 1.0, "reprojection_rank_weight": 0.0, **fields})


def test_cosine_masking_schedule():
    assert cosine_schedule(0.0) == 1.0 and abs(cosine_schedule(1.0)) < 1e-12
    values = cosine_schedule(torch.linspace(0, 1, 11))
    assert torch.all(values[1:] <= values[:-1])
    mask = random_training_mask(20000, 64, torch.Generator().manual_seed(0))
    counts = mask.sum(1)
    assert counts.min() >= 1 and counts.max() <= 64
    # E[cos(pi tau / 2)] = 2 / pi for tau ~ U(0, 1); ceil adds under one token on average
    assert abs(counts.float().mean().item() / 64 - 2 / math.pi) < 0.02


def test_shapes_and_determinism():
    model_a, model_b = small_model(), small_model()
    pose_6d = torch.randn(3, 16, 6)
    tokens = model_a.tokenizer.encode(pose_6d)
    assert tokens.shape == (3, 64) and tokens.dtype == torch.long and tokens.max() < 32
    assert model_a.tokenizer.decode(tokens).shape == (3, 16, 6)
    assert torch.equal(model_a.tokenizer.decode(tokens), TorchEngine(model_a).decode_codes(model_a.tokenizer.codebook[tokens]))
    cues = torch.rand(3, 21, CUE_CHANNELS_3D)
    logits, betas, camera = model_a.transformer(tokens, cues)
    assert logits.shape == (3, 64, 32) and betas.shape == (3, 10) and camera.shape == (3, 3)
    again = model_b.transformer(tokens, cues)
    assert all(torch.equal(x, y) for x, y in zip((logits, betas, camera), again))


def test_tokenizer_codebook_restarts_dead_codes():
    model = small_model()
    model.tokenizer.train()
    quantizer = model.tokenizer.quantizer
    for _ in range(3):
        model.tokenizer(torch.randn(64, 16, 6))
    quantizer.ema_count[:8] = 0.0                      # pretend 8 codes fell out of use
    model.tokenizer(torch.randn(64, 16, 6))
    assert torch.all(quantizer.ema_count >= quantizer.dead_threshold * quantizer.decay)


def test_sampling_returns_k_distinct_valid_hypotheses():
    model = small_model()
    cues = torch.rand(2, 21, CUE_CHANNELS_3D)
    result = sample(TorchEngine(model), cues, plain(iterations=5, samples=6), generator=torch.Generator().manual_seed(1))
    assert result.samples.shape == (2, 6, 16, 3) and result.pose.shape == (2, 16, 3)
    assert result.uncertainty.shape == (2, 16) and torch.all(result.uncertainty >= 0)
    assert result.token_confidence.shape == (2, 64) and torch.all(result.token_confidence > 0)
    assert (result.tokens != model.mask_index).all()
    for hand in range(2):
        distinct = {tuple(s.flatten().tolist()) for s in result.samples[hand].round(decimals=5)}
        assert len(distinct) == 6
    best = result.sample_scores.argmax(1)
    assert torch.equal(result.best_pose, result.samples[torch.arange(2), best])
    for pose in (result.pose, result.samples):  # the answer and every hypothesis are valid rotations
        matrices = axis_angle_to_matrix(pose)
        identity = torch.eye(3).expand_as(matrices)
        assert torch.allclose(matrices @ matrices.transpose(-1, -2), identity, atol=1e-5)
        assert torch.allclose(torch.linalg.det(matrices), torch.ones(matrices.shape[:-2]), atol=1e-5)


def test_draws_follow_the_probabilities():
    probabilities = torch.tensor([0.5, 0.0, 0.3, 0.2, 0.0])
    rows = probabilities.expand(3, 20000, 5)  # any leading shape
    drawn = draw_categorical(rows, torch.Generator().manual_seed(0))
    assert drawn.shape == (3, 20000)
    frequency = torch.bincount(drawn.flatten(), minlength=5) / drawn.numel()
    assert frequency[1] == 0 and frequency[4] == 0  # never a token of probability zero, nor past the last
    assert torch.allclose(frequency, probabilities, atol=0.01)


def test_attend_is_the_modules_attention():
    torch.manual_seed(0)
    attention = torch.nn.MultiheadAttention(32, 4, batch_first=True).eval()
    x, memory = torch.randn(3, 9, 32), torch.randn(3, 5, 32)
    with torch.no_grad():
        for query, keys in ((x, x), (x, memory)):  # self-attention (one fused projection) and cross-attention
            expected = attention(query, keys, keys, need_weights=False)[0]
            assert torch.allclose(attend(attention, query, keys), expected, atol=1e-6)
    attention.train()  # training, gradients on (dropout 0, as configured): the same maths
    expected = attention(x, memory, memory, need_weights=False)[0]
    assert torch.allclose(attend(attention, x, memory), expected, atol=1e-6)


class CountingEngine(TorchEngine):
    def __init__(self, model):
        super().__init__(model)
        self.passes = 0

    def step(self, tokens, context, cue_token):
        self.passes += 1
        return super().step(tokens, context, cue_token)


def test_positions_decode_from_the_distribution_they_were_committed_from():
    """T passes whatever K; the lone greedy hypothesis, rebuilt by hand: each position is decoded from
    the expected code of the iteration that committed it, not from the last iteration's logits."""
    model, cues = small_model(), torch.rand(2, 21, CUE_CHANNELS_3D)
    for samples in (3, 1):
        engine = CountingEngine(model)
        result = sample(engine, cues, plain(iterations=5, samples=samples, greedy_first=True),
                        generator=torch.Generator().manual_seed(0))
        assert engine.passes == 5
    engine = TorchEngine(model)
    with torch.no_grad():
        context, cue_token = engine.encode(cues)
        tokens = torch.full((2, 64), model.mask_index)
        codes = torch.zeros(2, 64, model.tokenizer.codebook.shape[1])
        for iteration in range(1, 6):
            logits, _ = engine.step(tokens, context, cue_token)
            masked = tokens == model.mask_index
            confidence, drawn = logits.softmax(-1).max(-1)
            keep = math.ceil(cosine_schedule(iteration / 5) * 64) if iteration < 5 else 0
            keep = min(keep, int(masked.sum(1).min()) - 1)
            ranking = torch.where(masked, confidence, torch.full_like(confidence, math.inf))
            tokens = torch.where(masked, drawn, tokens)
            codes[masked] = (logits.softmax(-1) @ model.tokenizer.codebook)[masked]
            if keep > 0:
                tokens.scatter_(1, ranking.argsort(1)[:, :keep], model.mask_index)
        expected = model.tokenizer.decode_codes(codes)
        last_logits = model.soft_decode(logits)
    assert torch.equal(result.tokens, tokens)
    assert torch.allclose(axis_angle_to_matrix(result.pose), rotation_6d_to_matrix(expected), atol=1e-5)
    # Not the last iteration's decode: positions committed early keep the belief they were drawn from.
    assert not torch.allclose(rotation_6d_to_matrix(expected), rotation_6d_to_matrix(last_logits), atol=1e-4)


def test_a_lone_hypothesis_is_the_arg_max_and_one_iteration_gives_one_pose():
    """K=1 takes the arg-max whatever the temperature; at T=1 nothing steers, so K hypotheses coincide
    with it, each decoded from the model's own (untempered) distribution."""
    model, cues = small_model(), torch.rand(2, 21, CUE_CHANNELS_3D)
    run = lambda **kw: sample(TorchEngine(model), cues, plain(**kw), generator=torch.Generator().manual_seed(0))  # noqa: E731
    greedy = run(samples=1, temperature=0.0)
    lone = run(samples=1, temperature=1.5, greedy_first=False)
    assert torch.equal(lone.tokens, greedy.tokens) and torch.equal(lone.pose, greedy.pose)
    one_pass = run(iterations=1, samples=1)
    hot = run(iterations=1, samples=4, temperature=2.0)
    assert not torch.equal(hot.tokens, one_pass.tokens)  # the draws differ ...
    for k in range(4):  # ... the poses do not (decoding the tempered distribution would move them)
        assert torch.allclose(axis_angle_to_matrix(hot.samples[:, k]), axis_angle_to_matrix(one_pass.pose), atol=1e-5)
    # Uncertainty without steering: the cue-only distributions through the decoder still spread at T=1;
    # a lone hypothesis, the fastest setting, measures none.
    assert torch.all(hot.spread[:, 1:] > 0) and torch.equal(hot.uncertainty, hot.spread)  # no calibration given
    assert torch.all(one_pass.uncertainty == 0) and torch.all(lone.uncertainty == 0)


def test_calibration_maps_the_spread_per_joint_and_keeps_each_joints_order():
    from backend.training.calibrate import fit_calibration
    from backend.maskhand.sampling import calibrated_error

    generator = torch.Generator().manual_seed(0)
    spread = torch.rand(500, 16, generator=generator, dtype=torch.float64) * 10 + 0.5
    offsets = torch.linspace(0.5, 2.0, 16, dtype=torch.float64)
    slopes = torch.linspace(0.2, 1.2, 16, dtype=torch.float64)
    error = torch.expm1(offsets + slopes * spread.log())
    pairs = fit_calibration(spread.numpy(), error.numpy())
    assert torch.allclose(torch.tensor(pairs, dtype=torch.float64), torch.stack([offsets, slopes], 1), atol=1e-3)
    assert torch.allclose(calibrated_error(spread, pairs), error, rtol=1e-2)
    assert torch.equal(calibrated_error(spread, None), spread)
    calibrated = calibrated_error(spread, pairs)
    for joint in range(16):
        order = spread[:, joint].argsort()
        assert torch.all(calibrated[order, joint].diff() >= 0)
    # A joint whose error falls as its spread grows carries no signal: it gets its typical error, flat.
    falling = error.clone()
    falling[:, 3] = torch.expm1(2.0 - 0.5 * spread[:, 3].log())
    pairs = fit_calibration(spread.numpy(), falling.numpy())
    assert pairs[3][1] == 0.0 and abs(pairs[3][0] - float(falling[:, 3].log1p().mean())) < 1e-3


def test_a_config_without_the_uncertainty_settings_loads_and_a_bad_calibration_is_refused(tmp_path):
    from backend.maskhand.model import read_config

    folder = tmp_path / "old"
    save_weights(folder, small_config(), {"tokenizer": small_model().tokenizer})
    data = json.loads((folder / "config.json").read_text())
    for key in ("uncertainty_directions", "uncertainty_calibration"):
        del data["sampling"][key]
    (folder / "config.json").write_text(json.dumps(data))
    sampling = read_config(folder).sampling
    assert sampling.uncertainty_calibration is None and sampling.uncertainty_directions == 2
    data["sampling"]["uncertainty_calibration"] = [[1.0, 0.5]] * 15
    (folder / "config.json").write_text(json.dumps(data))
    with pytest.raises(CheckpointError, match="16 \\(offset, slope\\) pairs"):
        read_config(folder)
    data["sampling"]["uncertainty_calibration"], data["sampling"]["typical_error"] = None, [8.0] * 15
    (folder / "config.json").write_text(json.dumps(data))
    with pytest.raises(CheckpointError, match="16 angles"):
        read_config(folder)


def test_chordal_mean_of_rotations():
    rotations = axis_angle_to_matrix(torch.randn(3, 4, 16, 3))
    weights = torch.softmax(torch.randn(3, 4), 1)
    mean = chordal_mean(rotations, weights)
    assert torch.allclose(torch.linalg.det(mean), torch.ones(3, 16), atol=1e-5)
    one_hot = torch.zeros(3, 4)
    one_hot[:, 2] = 1
    assert torch.allclose(chordal_mean(rotations, one_hot), rotations[:, 2], atol=1e-5)
    # Two rotations about one axis, equally weighted: the mean is the rotation halfway between.
    axis = torch.tensor([0.0, 0.6, 0.8])
    pair = axis_angle_to_matrix(torch.stack([0.2 * axis, 1.0 * axis])[None])
    assert torch.allclose(chordal_mean(pair, torch.tensor([[0.5, 0.5]])), axis_angle_to_matrix(0.6 * axis), atol=1e-5)


def test_sampling_is_deterministic_given_the_generator_and_greedy_without_temperature():
    model = small_model()
    cues = torch.rand(2, 21, CUE_CHANNELS_3D)
    run = lambda seed, temperature: sample(TorchEngine(model), cues, plain(samples=3, temperature=temperature),  # noqa: E731
                                           generator=torch.Generator().manual_seed(seed))
    assert torch.equal(run(5, 1.0).tokens, run(5, 1.0).tokens)
    greedy = run(5, 0.0)
    assert torch.equal(greedy.samples[:, 0], greedy.samples[:, 1])  # arg-max hypotheses coincide
    poses, scores, betas = candidates(greedy)
    assert poses.shape == (2, 4, 16, 3) and torch.equal(poses[:, 0], greedy.pose)
    assert torch.equal(scores[:, 0], greedy.sample_scores.max(1).values) and torch.equal(betas[:, 0], greedy.betas)


def test_checkpoint_round_trip(tmp_path):
    model = small_model()
    model.save(tmp_path / "ckpt")
    loaded = MaskHand.load(tmp_path / "ckpt")
    assert json.loads((tmp_path / "ckpt" / "config.json").read_text())["format"] == "maskhand-checkpoint"
    tokens, cues = torch.randint(0, 33, (2, 64)), torch.rand(2, 21, CUE_CHANNELS_3D)
    with torch.no_grad():
        assert all(torch.equal(x, y) for x, y in zip(model.transformer(tokens, cues), loaded.transformer(tokens, cues)))
    assert torch.equal(model.tokenizer.codebook, loaded.tokenizer.codebook)


def test_loading_refuses_what_is_not_our_checkpoint(tmp_path):
    with pytest.raises(CheckpointError, match="no MaskHand checkpoint"):
        MaskHand.load(tmp_path / "missing")
    folder = tmp_path / "foreign"
    small_model().save(folder)
    (folder / "model.safetensors").write_bytes(b"\x00" * 64)
    with pytest.raises(CheckpointError, match="not readable as safetensors"):
        MaskHand.load(folder)
    from safetensors.torch import save_file

    save_file({"weight": torch.zeros(2)}, folder / "model.safetensors")     # safetensors, but not ours
    with pytest.raises(CheckpointError, match="not MaskHand weights"):
        MaskHand.load(folder)
    (folder / "config.json").write_text(json.dumps({"model_type": "bert"}))
    with pytest.raises(CheckpointError, match="not a MaskHand checkpoint config"):
        MaskHand.load(folder)
    other = small_config()
    other.transformer.dim = 64
    save_weights(folder, small_config(), {"tokenizer": small_model().tokenizer, "transformer": MaskHand(other).transformer})
    with pytest.raises(CheckpointError, match="does not match its config.json"):
        MaskHand.load(folder)


def test_many_iterations_still_fix_every_token():
    model = small_model()
    result = sample(TorchEngine(model), torch.rand(1, 21, CUE_CHANNELS_3D), plain(iterations=80, samples=2),
                    generator=torch.Generator().manual_seed(0))
    assert (result.tokens != model.mask_index).all()
    with pytest.raises(ValueError, match="at least 1"):
        sample(TorchEngine(model), torch.rand(1, 21, CUE_CHANNELS_3D), plain(iterations=0))


def test_a_mano_checkpoint_needs_the_mano_folder():
    config = small_config()
    config.hand_model = "mano"
    with pytest.raises(CheckpointError, match="trained with MANO: set the MANO folder"):
        MaskHand(config)


def test_a_sampling_config_overridden_keeps_what_is_not_asked_for():
    own = SamplingConfig(iterations=6, samples=5, temperature=1.25, greedy_first=True, uncertainty_directions=3)
    assert own.overridden() == own and own.overridden(None, None, None) == own
    asked = own.overridden(samples=2, iterations=1, temperature=0.0)  # 0: greedy, not "keep the checkpoint's"
    assert (asked.samples, asked.iterations, asked.temperature) == (2, 1, 0.0)
    assert (asked.greedy_first, asked.uncertainty_directions) == (True, 3)
    assert (own.samples, own.iterations, own.temperature) == (5, 6, 1.25)  # a copy: the checkpoint's stays
    assert own.overridden(iterations=2).samples == 5 and own.overridden(samples=1).iterations == 6


@pytest.mark.parametrize("samples, iterations, differ", [(8, 5, True), (2, 2, True), (1, 5, False), (8, 1, False),
                                                         (1, 1, False)])
def test_hypotheses_differ_from_two_samples_and_two_iterations(samples, iterations, differ):
    assert DIFFERING_HYPOTHESES == {"min_samples": 2, "min_iterations": 2}
    assert SamplingConfig(samples=samples, iterations=iterations).hypotheses_differ is differ
    # The rule is the sampler's: where it says they coincide, the K hypotheses decode to one pose.
    result = sample(TorchEngine(small_model()), torch.rand(2, 21, CUE_CHANNELS_3D),
                    plain(samples=samples, iterations=iterations, temperature=2.0),
                    generator=torch.Generator().manual_seed(0))
    matrices = axis_angle_to_matrix(result.samples)
    spread = (matrices - matrices[:, :1]).abs().amax()
    assert bool(spread > 1e-5) is differ, spread
