"""MANO from user files: the restricted unpickler, and our FK against smplx's own MANO layer."""
import os
import pickle

import numpy as np
import pytest
import smplx
import torch

from backend.hand_model import ManoModelError, load_hand_model, load_mano_data, mano_to_openpose
from backend.hand_model.layout import MANO_TIP_VERTEX_IDS
from backend.hand_model.mano import safe_load_pickle
from tests.synthetic_mano import synthetic_mano_arrays, write_mano_file, write_mano_folder


@pytest.fixture(scope="module")
def mano_folders(tmp_path_factory):
    """The same synthetic model twice: as the official files store it (chumpy) and as plain arrays."""
    chumpy_folder = tmp_path_factory.mktemp("mano_chumpy")
    plain_folder = tmp_path_factory.mktemp("mano_plain")
    arrays = write_mano_folder(chumpy_folder, seed=3, as_chumpy=True)
    write_mano_folder(plain_folder, seed=3, as_chumpy=False)
    return chumpy_folder, plain_folder, arrays


def test_chumpy_arrays_load_as_plain_numpy(mano_folders):
    chumpy_folder, _, arrays = mano_folders
    loaded = safe_load_pickle(chumpy_folder / "MANO_RIGHT.pkl")
    assert type(loaded["v_template"]) is np.ndarray
    assert np.array_equal(loaded["shapedirs"], arrays["right"]["shapedirs"])
    assert np.array_equal(loaded["J_regressor"].toarray(), arrays["right"]["J_regressor"].toarray())


@pytest.mark.parametrize("side", ["right", "left"])
def test_our_fk_matches_smplx_mano_layer(mano_folders, side):
    chumpy_folder, plain_folder, _ = mano_folders
    ours = load_hand_model(side, mano_folder=chumpy_folder)
    # smplx unpickles the plain copy itself (it cannot read chumpy): an independent path to the same model.
    reference = smplx.MANO(str(plain_folder), is_rhand=side == "right", use_pca=False, flat_hand_mean=True,
                           num_betas=10)
    generator = torch.Generator().manual_seed(7)
    pose = 0.7 * torch.randn(16, 16, 3, generator=generator)
    betas = torch.randn(16, 10, generator=generator)

    out = ours(pose, betas)
    expected = reference(global_orient=pose[:, 0], hand_pose=pose[:, 1:].reshape(16, 45), betas=betas)
    expected_keypoints = mano_to_openpose(torch.cat([expected.joints, expected.vertices[:, MANO_TIP_VERTEX_IDS]], 1))
    assert torch.allclose(out.joints, expected.joints, atol=1e-5, rtol=0)
    assert torch.allclose(out.keypoints, expected_keypoints, atol=1e-5, rtol=0)
    assert torch.allclose(out.vertices, expected.vertices, atol=1e-5, rtol=0)
    assert torch.allclose(ours(pose, betas, with_vertices=False).keypoints, expected_keypoints, atol=1e-5, rtol=0)


def test_zero_pose_is_the_flat_hand_not_the_files_mean_pose(mano_folders):
    chumpy_folder, plain_folder, arrays = mano_folders
    ours = load_hand_model("right", mano_folder=chumpy_folder)
    flat = ours(torch.zeros(1, 16, 3)).joints[0].numpy()
    regressor = arrays["right"]["J_regressor"].toarray()
    assert np.allclose(flat, regressor @ arrays["right"]["v_template"], atol=1e-6)
    with_mean = smplx.MANO(str(plain_folder), is_rhand=True, use_pca=False, flat_hand_mean=False)
    assert not np.allclose(with_mean().joints[0].detach().numpy(), flat, atol=1e-3)  # the choice matters


def test_unpickler_refuses_a_pickle_that_calls_a_function(tmp_path):
    class Exploit:
        def __reduce__(self):
            return os.system, ("echo owned > " + str(tmp_path / "owned"),)

    path = tmp_path / "MANO_RIGHT.pkl"
    path.write_bytes(pickle.dumps({"v_template": Exploit()}, protocol=2))
    with pytest.raises(pickle.UnpicklingError, match="refusing to load '(posix|nt).system'"):
        safe_load_pickle(path)
    with pytest.raises(ManoModelError, match="could not be read as a MANO model.*refusing"):
        load_mano_data(tmp_path, "right")
    assert not (tmp_path / "owned").exists()


def test_unpickler_refuses_builtins_eval(tmp_path):
    path = tmp_path / "evil.pkl"
    path.write_bytes(b"cbuiltins\neval\n(V1+1\ntR.")  # protocol 0: eval("1+1")
    with pytest.raises(pickle.UnpicklingError, match="builtins.eval"):
        safe_load_pickle(path)


def test_missing_files_say_where_they_were_looked_for_and_how_to_get_mano(tmp_path):
    with pytest.raises(ManoModelError) as error:
        load_mano_data(tmp_path, "left")
    message = str(error.value)
    assert "MANO_LEFT.pkl" in message and str(tmp_path) in message and "mano.is.tue.mpg.de" in message


def test_a_file_that_is_not_mano_is_refused_clearly(tmp_path):
    arrays = synthetic_mano_arrays(0)
    del arrays["weights"]
    write_mano_file(tmp_path / "MANO_RIGHT.pkl", arrays)
    with pytest.raises(ManoModelError, match="not a MANO model: it lacks weights"):
        load_mano_data(tmp_path, "right")
    arrays = synthetic_mano_arrays(0)
    arrays["v_template"] = arrays["v_template"][:100]
    write_mano_file(tmp_path / "MANO_RIGHT.pkl", arrays)
    with pytest.raises(ManoModelError, match=r"v_template has shape \(100, 3\)"):
        load_mano_data(tmp_path, "right")
    (tmp_path / "MANO_RIGHT.pkl").write_bytes(b"not a pickle at all")
    with pytest.raises(ManoModelError, match="could not be read"):
        load_mano_data(tmp_path, "right")


def test_left_shapedirs_bug_of_the_public_files_is_fixed(tmp_path):
    right = synthetic_mano_arrays(5)
    left = synthetic_mano_arrays(6)
    left["shapedirs"] = left["shapedirs"].copy()
    left["shapedirs"][:, 0] = right["shapedirs"][:, 0]  # as in the released MANO_LEFT.pkl
    write_mano_file(tmp_path / "MANO_RIGHT.pkl", right)
    write_mano_file(tmp_path / "MANO_LEFT.pkl", left)
    loaded = load_mano_data(tmp_path, "left")
    assert np.allclose(loaded.shapedirs[:, 0], -right["shapedirs"][:, 0])
    assert np.allclose(loaded.shapedirs[:, 1:], left["shapedirs"][:, 1:])


def test_the_depth_wise_chain_gives_smplx_s_transforms_exactly():
    from smplx.lbs import batch_rigid_transform, batch_rodrigues

    from backend.hand_model.layout import PARENTS
    from backend.hand_model.model import depth_levels, rigid_transforms_by_depth

    assert depth_levels(PARENTS) == ((0,), (1, 4, 7, 10, 13), (2, 5, 8, 11, 14), (3, 6, 9, 12, 15))
    generator = torch.Generator().manual_seed(0)
    rotations = batch_rodrigues(torch.randn(32 * 16, 3, generator=generator)).view(32, 16, 3, 3)
    rest = torch.randn(32, 16, 3, generator=generator)
    for ours, theirs in zip(rigid_transforms_by_depth(rotations, rest, PARENTS),
                            batch_rigid_transform(rotations, rest, torch.tensor(PARENTS))):
        assert torch.allclose(ours, theirs, atol=1e-6)
