"""The within-hypothesis spread: coloured finite-difference probes against the exact delta method."""
import math

import pytest
import torch

from backend.context.pose_cues import CUE_CHANNELS_3D
from backend.maskhand.config import MaskHandConfig, TokenizerConfig
from backend.maskhand.decoder_spread import probe_colours, token_dependencies
from backend.maskhand.model import MaskHand
from backend.maskhand.rotations import rotation_6d_to_matrix
from backend.maskhand.sampling import TorchEngine


def engine() -> TorchEngine:
    torch.manual_seed(0)
    # The default tokenizer's shape: 64 tokens, 8-dimensional codes, a convolution decoder with a local window.
    return TorchEngine(MaskHand(MaskHandConfig(name="test", tokenizer=TokenizerConfig(codebook_size=32))).eval())


def exact_spread(engine, codes, covariance) -> torch.Tensor:
    """sqrt(sum_p trace(J_jp Sigma_p J_jp^T)) per joint, with J from autograd: (M, 16) degrees."""
    def omega(flat):  # the joints' rotation vectors relative to the decoded pose, to first order
        relative = base.transpose(-1, -2) @ rotation_6d_to_matrix(engine.decode_codes(flat.view(codes.shape)))
        return torch.stack([relative[..., 2, 1] - relative[..., 1, 2], relative[..., 0, 2] - relative[..., 2, 0],
                            relative[..., 1, 0] - relative[..., 0, 1]], -1) / 2
    with torch.no_grad():
        base = rotation_6d_to_matrix(engine.decode_codes(codes))
    jacobian = torch.autograd.functional.jacobian(omega, codes.flatten())                  # (M, 16, 3, M*L*D)
    rows, length, dim = codes.shape
    jacobian = jacobian.view(rows, 16, 3, rows, length, dim)[torch.arange(rows), :, :, torch.arange(rows)]
    variance = torch.einsum("mjapd,mpde,mjape->mj", jacobian, covariance, jacobian)
    return torch.rad2deg(variance.sqrt())


def random_covariance(rows, length, dim, generator):
    """The same covariance at every position, so that a probe mixing two positions a joint reads would show."""
    factor = torch.randn(rows, 1, dim, dim, generator=generator).expand(rows, length, dim, dim) * 0.05
    return factor @ factor.transpose(-1, -2)


def test_positions_that_share_a_probe_move_no_joint_together():
    probe = engine()
    depends = token_dependencies(probe, 64, 8)                                             # (L, 16)
    assert depends.any(0).all() and depends.any(1).all()   # every joint reads tokens, every token feeds a joint
    assert depends.sum(0).max() < 64                       # the decoder's window is local: that is the saving
    colour = probe_colours(depends)
    for c in colour.unique():
        shared = depends[colour == c].sum(0)
        assert shared.max() <= 1, f"colour {int(c)} moves a joint through two positions"
    assert colour.max() + 1 < 64


def test_the_probed_spread_is_the_delta_method():
    probe = engine()
    generator = torch.Generator().manual_seed(1)
    codes = torch.randn(2, 64, 8, generator=generator)
    covariance = random_covariance(2, 64, 8, generator)
    exact = exact_spread(probe, codes, covariance)
    probed = probe.decoder_spread(codes, covariance, directions=8)
    assert exact.min() > 0.01
    assert torch.allclose(probed, exact, rtol=5e-3, atol=1e-4), (probed - exact).abs().max()
    # Fewer directions follow less of each covariance: never more spread, and rank-one covariances need one.
    assert torch.all(probe.decoder_spread(codes, covariance, directions=2) <= probed * 1.01)
    direction = torch.randn(2, 1, 8, 1, generator=generator).expand(2, 64, 8, 1) * 0.05
    rank_one = direction @ direction.transpose(-1, -2)
    assert torch.allclose(probe.decoder_spread(codes, rank_one, directions=1), exact_spread(probe, codes, rank_one),
                          rtol=5e-3, atol=1e-4)


def test_the_spread_scales_with_the_codes_standard_deviation():
    probe = engine()
    generator = torch.Generator().manual_seed(2)
    codes = torch.randn(1, 64, 8, generator=generator)
    covariance = random_covariance(1, 64, 8, generator)
    one, four = (probe.decoder_spread(codes, scale * covariance, directions=8) for scale in (1.0, 4.0))
    assert torch.allclose(four, 2 * one, rtol=0.02)
    assert torch.all(probe.decoder_spread(codes, torch.zeros_like(covariance), directions=8) == 0)
    assert not math.isnan(float(one.sum()))
    for directions in (0, 9):  # 0 must not slip through as "all of them"
        with pytest.raises(ValueError, match="directions must be 1 to 8"):
            probe.decoder_spread(codes, covariance, directions=directions)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device (this machine and CI have none)")
def test_the_probes_run_on_the_device_the_model_runs_on():
    from backend.maskhand.sampling import sample

    model = engine().model.to("cuda")
    result = sample(TorchEngine(model), torch.rand(2, 21, CUE_CHANNELS_3D, device="cuda"),
                    model.config.sampling.overridden(samples=2), hand=model.hand)
    assert result.uncertainty.device.type == "cuda" and torch.all(result.spread[:, 1:] > 0)
