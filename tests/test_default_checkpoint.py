"""The shipped default checkpoint (trained by `python -m backend.training.train default`) and its ONNX engine."""
import pytest
import torch
from safetensors.torch import load_file

from backend.training.data.synthetic import SyntheticHands
from backend.training.data.training_batch import from_synthetic
from backend.maskhand.config import MaskHandConfig, TokenizerConfig, TransformerConfig
from backend.maskhand.model import CONFIG_FILE, DEFAULT_CHECKPOINT, WEIGHTS_FILE, MaskHand, read_config
from backend.maskhand.onnx_engine import OnnxEngine
from backend.maskhand.rotations import axis_angle_to_matrix, geodesic_angle
from backend.maskhand.sampling import TorchEngine, sample
from backend.training.train import train_default


@pytest.fixture(scope="module")
def model():
    return MaskHand.load()


@pytest.fixture(scope="module")
def cues():
    return from_synthetic(SyntheticHands(seed=99).sample(6)).cues


def test_default_checkpoint_is_small_self_describing_and_loads_by_default(model):
    size = sum((DEFAULT_CHECKPOINT / name).stat().st_size for name in (CONFIG_FILE, WEIGHTS_FILE))
    assert size < 30 * 2**20
    assert model.config.name == "maskhand-k" and model.config.transformer.image_encoder is None
    assert model.config.hand_model == "builtin"


def test_onnx_engine_matches_torch(model, cues):
    torch_engine, onnx_engine = TorchEngine(model), OnnxEngine(DEFAULT_CHECKPOINT)
    tokens = torch.randint(0, model.mask_index + 1, (cues.shape[0], 64), generator=torch.Generator().manual_seed(0))
    close = lambda ours, theirs: torch.allclose(ours, theirs, atol=1e-4, rtol=0)  # noqa: E731
    with torch.no_grad():
        context = torch_engine.encode(cues)
        assert all(map(close, onnx_engine.encode(cues), context))
        logits, hidden = torch_engine.step(tokens, *context)
        assert all(map(close, onnx_engine.step(tokens, *context), (logits, hidden)))
        assert all(map(close, onnx_engine.read_out(context[0], hidden), torch_engine.read_out(context[0], hidden)))
        # the split passes are the training forward pass
        assert all(map(close, model.transformer(tokens, cues), (logits, *torch_engine.read_out(context[0], hidden))))
        assert torch.equal(onnx_engine.codebook, torch_engine.codebook)
        codes = torch.softmax(logits, -1) @ torch_engine.codebook  # the soft codes sampling decodes
        assert close(onnx_engine.decode_codes(codes), torch_engine.decode_codes(codes))
    greedy = model.config.sampling.overridden(samples=2, temperature=0.0)
    on_torch = sample(torch_engine, cues, greedy, hand=model.hand, focal_crop=model.config.focal_crop)
    on_onnx = sample(onnx_engine, cues, greedy, hand=model.hand, focal_crop=model.config.focal_crop)
    assert torch.equal(on_onnx.tokens, on_torch.tokens)
    assert torch.allclose(on_onnx.pose, on_torch.pose, atol=1e-4, rtol=0)
    # the uncertainty's probes through the decoder run on either engine (degrees)
    assert on_torch.uncertainty[:, 1:].min() > 1
    assert torch.allclose(on_onnx.uncertainty, on_torch.uncertainty, atol=0.05, rtol=0)


def test_trained_sampling_gives_distinct_confident_hypotheses(model, cues):
    config = model.config.sampling  # as the product samples
    result = sample(TorchEngine(model), cues, config, generator=torch.Generator().manual_seed(0), hand=model.hand,
                    focal_crop=model.config.focal_crop)
    distinct = {tuple(s.flatten().tolist()) for s in result.samples[0].round(decimals=5)}
    assert len(distinct) > 1
    assert result.token_confidence.mean() > 10 / 512  # far above chance over the 512 codes
    # The answer lies among its hypotheses: no farther from any of them than the farthest two are apart.
    # (Checked on trained weights: an untrained model's hypotheses differ by hundredths of a degree, where
    # float32's acos stops resolving angles.)
    answer, hypotheses = axis_angle_to_matrix(result.pose), axis_angle_to_matrix(result.samples)
    to_answer = geodesic_angle(hypotheses, answer[:, None]).amax(1)
    diameter = geodesic_angle(hypotheses[:, :, None], hypotheses[:, None]).amax((1, 2))
    assert torch.all(to_answer <= diameter + 1e-4)
    between = torch.rad2deg(geodesic_angle(hypotheses, answer[:, None])).square().mean(1).sqrt()
    # Degrees: the hypotheses really spread (about 1 degree on the model that reads 3D cues, which pin the pose
    # more tightly than u, v alone; an untrained model's differ by hundredths).
    assert between[:, 1:].mean() > 0.5
    # The spread adds the cue-only code distributions carried through the decoder to the hypotheses' spread:
    # on trained weights that part is the larger by far.
    assert result.spread[:, 1:].mean() > 2 * between[:, 1:].mean()
    # Shown as a typical error: the shipped calibration's, on the scale of the errors (about 12 degrees on
    # held-out hands), where the raw spread of the hypotheses was a sixth of it.
    assert len(config.uncertainty_calibration) == 16
    assert 4 < result.uncertainty[:, 1:].mean() < 20
    assert len(config.typical_error) == 16 and 4 < sum(config.typical_error[1:]) / 15 < 20


def test_training_is_deterministic_from_its_seed(tmp_path):
    config = MaskHandConfig(tokenizer=TokenizerConfig(codebook_size=32, code_dim=4, hidden=16),
                            transformer=TransformerConfig(dim=32, layers=1, heads=2, cue_layers=1,
                                                          refinement_blocks=1, head_layers=1))
    config.training.tokenizer_steps = config.training.transformer_steps = 3
    config.training.batch_size = config.training.tokenizer_batch_size = 8
    config.training.calibration_hands = 40
    train_default(config, tmp_path / "a")
    train_default(config, tmp_path / "b")
    first, second = (load_file(tmp_path / run / WEIGHTS_FILE) for run in ("a", "b"))
    assert first.keys() == second.keys()
    assert all(torch.equal(first[name], second[name]) for name in first)
    # Training ends by calibrating the uncertainty, deterministically too.
    calibrations = [read_config(tmp_path / run).sampling.uncertainty_calibration for run in ("a", "b")]
    assert calibrations[0] == calibrations[1] and len(calibrations[0]) == 16
    # ... beside each joint's typical error, the refinement's prior where K=1 measures no uncertainty.
    typical = [read_config(tmp_path / run).sampling.typical_error for run in ("a", "b")]
    assert typical[0] == typical[1] and len(typical[0]) == 16 and min(typical[0]) > 0
