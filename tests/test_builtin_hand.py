"""The built-in MANO-layout hand: forward kinematics on poses with known answers."""
import math

import numpy as np
import pytest
import torch

from backend.hand_model import (JOINT_NAMES, KEYPOINT_NAMES, builtin_hand_data, load_hand_model, mirror_points,
                                mirror_pose)


def joint(name):
    return JOINT_NAMES.index(name)


def keypoint(name):
    return KEYPOINT_NAMES.index(name)


def rotation_z(degrees):
    angle = math.radians(degrees)
    return torch.tensor([[math.cos(angle), -math.sin(angle), 0.0], [math.sin(angle), math.cos(angle), 0.0],
                         [0.0, 0.0, 1.0]])


@pytest.fixture(scope="module")
def right():
    return load_hand_model("right")


@pytest.fixture(scope="module")
def left():
    return load_hand_model("left")


def test_flat_pose_gives_the_rest_hand(right):
    out = right(torch.zeros(1, 16, 3))
    rest = right.rest_joints()
    assert torch.allclose(out.joints, rest, atol=1e-7)
    assert torch.allclose(out.vertices, right.v_template[None], atol=1e-7)
    assert torch.allclose(out.keypoints[0, keypoint("wrist")], torch.zeros(3))
    tips = out.vertices[0, right.tip_vertex_ids]
    assert torch.allclose(out.keypoints[0, [keypoint(f"{t}_tip") for t in ("thumb", "index", "middle", "ring", "pinky")]], tips)
    # An anatomically sensible flat right hand: fingers along -x, thumb on +z, plausible size.
    middle_length = (out.keypoints[0, keypoint("middle_tip")] - out.keypoints[0, keypoint("middle1")]).norm()
    palm_length = out.keypoints[0, keypoint("middle1")].norm()
    assert 0.08 < middle_length < 0.10 and 0.085 < palm_length < 0.10
    assert out.keypoints[0, keypoint("middle_tip"), 0] < -0.17
    assert out.keypoints[0, keypoint("thumb_tip"), 2] > out.keypoints[0, keypoint("index_tip"), 2]


def test_a_ninety_degree_bend_at_the_knuckle(right):
    pose = torch.zeros(1, 16, 3)
    pose[0, joint("index1"), 2] = math.pi / 2  # +z flexes a right-hand finger toward the palm (-y)
    out = right(pose)
    rest = right.rest_joints()[0]
    knuckle = rest[joint("index1")]
    expected_index2 = knuckle + rotation_z(90) @ (rest[joint("index2")] - knuckle)
    assert torch.allclose(out.joints[0, joint("index2")], expected_index2, atol=1e-6)
    bone = out.joints[0, joint("index2")] - knuckle
    assert bone[1] < -0.99 * bone.norm()  # the proximal phalanx now points into the palm
    # the rest of the finger follows rigidly; every other joint stays put
    tip_rest = right(torch.zeros(1, 16, 3)).keypoints[0, keypoint("index_tip")]
    assert torch.allclose(out.keypoints[0, keypoint("index_tip")], knuckle + rotation_z(90) @ (tip_rest - knuckle), atol=1e-6)
    untouched = [j for j in range(16) if j not in (joint("index2"), joint("index3"))]
    assert torch.allclose(out.joints[0, untouched], rest[untouched], atol=1e-7)


def test_ninety_degree_bends_compose_down_the_chain(right):
    pose = torch.zeros(1, 16, 3)
    pose[0, joint("middle1"), 2] = pose[0, joint("middle2"), 2] = math.pi / 2
    out = right(pose)
    rest = right.rest_joints()[0]
    m1, m2, m3 = (rest[joint(n)] for n in ("middle1", "middle2", "middle3"))
    expected_m3 = m1 + rotation_z(90) @ (m2 - m1) + rotation_z(180) @ (m3 - m2)
    assert torch.allclose(out.joints[0, joint("middle3")], expected_m3, atol=1e-6)


def test_global_orientation_rotates_the_whole_hand_about_the_wrist(right):
    pose = torch.zeros(1, 16, 3)
    pose[0, 0, 2] = math.pi / 2
    out = right(pose)
    flat = right(torch.zeros(1, 16, 3))
    assert torch.allclose(out.keypoints[0], flat.keypoints[0] @ rotation_z(90).T, atol=1e-6)


def test_left_hand_mirrors_the_right_and_mirroring_is_an_involution(right, left):
    generator = torch.Generator().manual_seed(0)
    pose = 0.6 * torch.randn(8, 16, 3, generator=generator)
    betas = torch.randn(8, 10, generator=generator)
    right_out = right(pose, betas)
    left_out = left(mirror_pose(pose), betas)
    assert torch.allclose(left_out.keypoints, mirror_points(right_out.keypoints), atol=1e-6)
    assert torch.allclose(left_out.vertices, mirror_points(right_out.vertices), atol=1e-6)
    back = right(mirror_pose(mirror_pose(pose)), betas)
    assert torch.allclose(back.keypoints, right_out.keypoints, atol=1e-7)


def test_keypoints_only_path_and_batching_agree_with_the_full_path(right):
    generator = torch.Generator().manual_seed(1)
    pose = 0.5 * torch.randn(6, 16, 3, generator=generator)
    betas = torch.randn(6, 10, generator=generator)
    full = right(pose, betas)
    cheap = right(pose, betas, with_vertices=False)
    assert cheap.vertices is None
    assert torch.allclose(cheap.keypoints, full.keypoints, atol=1e-7)
    single = right(pose[2:3], betas[2:3])
    assert torch.allclose(single.keypoints[0], full.keypoints[2], atol=1e-7)


def test_shape_space(right):
    flat = torch.zeros(1, 16, 3)
    base = right(flat).keypoints
    size = torch.zeros(1, 10)
    size[0, 0] = 1.0
    assert torch.allclose(right(flat, size).keypoints, 1.08 * base, atol=1e-6)
    length = torch.zeros(1, 10)
    length[0, 1] = 1.0
    longer = right(flat, length).keypoints[0]
    for finger in ("index", "middle", "ring", "pinky", "thumb"):
        root = keypoint(f"{finger}1")
        tip = keypoint(f"{finger}_tip")
        assert torch.allclose(longer[root], base[0, root], atol=1e-7)  # the knuckle stays
        assert torch.allclose(longer[tip] - longer[root], 1.08 * (base[0, tip] - base[0, root]), atol=1e-6)
    unused = torch.zeros(1, 10)
    unused[0, 4:] = 3.0
    assert torch.allclose(right(flat, unused).keypoints, base)


def _edges(faces):
    return np.sort(np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]]), axis=1)


@pytest.mark.parametrize("side", ["right", "left"])
def test_the_skin_is_one_closed_surface_facing_outwards(side):
    data = builtin_hand_data(side)
    _, counts = np.unique(_edges(data.faces), axis=0, return_counts=True)
    assert np.all(counts == 2), "the skin has holes or non-manifold edges"
    a, b, c = (data.v_template[data.faces[:, k]] for k in range(3))
    assert np.einsum("ij,ij->i", a, np.cross(b, c)).sum() / 6 > 0, "the skin faces inwards"
    # One piece: every vertex reachable from the first along the edges.
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    edges = _edges(data.faces)
    graph = coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(len(data.v_template),) * 2)
    assert connected_components(graph, directed=False)[0] == 1


def test_skinning_blends_along_each_finger_and_never_across_fingers(right):
    data = builtin_hand_data("right")
    weights = data.weights
    assert np.allclose(weights.sum(1), 1.0) and (weights >= 0).all()
    finger_of_joint = np.array([0] + [1 + (j - 1) // 3 for j in range(1, 16)])   # 0 palm, 1-5 the fingers
    for vertex_weights in weights:
        fingers = set(finger_of_joint[vertex_weights > 0]) - {0}
        assert len(fingers) <= 1
    assert (weights > 0).sum(1).max() >= 2, "some skin should blend between bones"
    # Mid-phalanx skin is rigid on its bone; the tips ride their last bone alone.
    for tip, finger in zip(data.tip_vertex_ids, ("thumb", "index", "middle", "ring", "pinky")):
        assert weights[tip, joint(f"{finger}3")] == 1.0


def test_the_fingertip_keypoints_are_on_the_skin_at_the_tips_of_the_fingers(right):
    out = right(torch.zeros(1, 16, 3))
    vertices = out.vertices[0].numpy()
    for finger in ("thumb", "index", "middle", "ring", "pinky"):
        tip = out.keypoints[0, keypoint(f"{finger}_tip")].numpy()
        last = out.keypoints[0, keypoint(f"{finger}3")].numpy()
        skin = vertices[builtin_hand_data("right").weights[:, joint(f"{finger}3")] > 0]   # the last phalanx's
        along = (skin - last) @ (tip - last) / np.linalg.norm(tip - last)
        # The tip is the skin's farthest point along the last phalanx, within a millimetre.
        assert along.max() <= np.linalg.norm(tip - last) + 1e-3


@pytest.mark.slow
def test_the_committed_skin_is_what_the_generator_makes(tmp_path):
    pytest.importorskip("mcubes", reason="PyMCubes (requirements/dev.txt) generates the skin")
    from tests.conftest import needs_blender

    needs_blender()  # the generator decimates with Blender's own modifier
    import subprocess
    import sys
    from pathlib import Path

    from backend.hand_model.builtin import SURFACE_FILE

    tool = Path(__file__).resolve().parent.parent / "tools" / "make_hand_surface.py"
    subprocess.run([sys.executable, str(tool), "--out", str(tmp_path / "surface.npz")], check=True,
                   capture_output=True, timeout=300)
    with np.load(tmp_path / "surface.npz") as made, np.load(SURFACE_FILE) as committed:
        assert np.array_equal(committed["faces"], made["faces"])
        assert np.abs(committed["vertices"] - made["vertices"]).max() < 1e-6
