"""Retarget math without Blender: bone directions after retargeting match the hand model's FK."""
import numpy as np
import pytest

from maskhand_blender.core.hand_data import load_hand_rest
from maskhand_blender.core.retarget import ArmatureRest, HandRest, RetargetError, retarget, world_rotations
from maskhand_blender.core.rotations import (axis_angle_to_matrix, continuous_quaternions, matrix_to_quaternion,
                                             quaternion_to_matrix, rotation_between)

PALM = "palm.index"  # an unmapped bone between the wrist and the index finger, as Rigify has


def random_poses(rng, count, scale=0.6):
    return rng.normal(0, scale, (count, 16, 3))


def armature_from_hand(hand: HandRest, rng, turn: np.ndarray, curl_pose: np.ndarray | None = None):
    """An armature shaped like the hand: one bone per joint (random roll), turned by ``turn``, its fingers
    posed by ``curl_pose`` at rest, plus an unmapped palm bone above index1."""
    points = hand.points.copy()
    world = np.broadcast_to(np.eye(3), (16, 3, 3))
    if curl_pose is not None:
        world = world_rotations(curl_pose[None], hand.parents)[0]
        for joint in range(16):   # move each end point with its joint's rotation (the FK of the curled rest)
            parent_point = points[joint]
            end = hand.bone_end_point[joint]
            points[end] = parent_point + world[joint] @ (hand.points[end] - hand.points[joint])
            for child in np.flatnonzero(hand.parents == joint):
                points[child] = parent_point + world[joint] @ (hand.points[child] - hand.points[joint])
    names, parents, matrices, heads = [], [], [], []
    index = {}
    for joint in range(16):
        parent = hand.parents[joint]
        if joint == 1:  # index1 hangs under the palm bone
            index[PALM] = len(names)
            names.append(PALM)
            parents.append(index[0])
            direction = turn @ (points[1] - points[0])
            matrices.append(rotation_between(np.array([0.0, 1.0, 0.0]), direction) @ axis_angle_to_matrix(
                np.array([0.0, rng.uniform(-3, 3), 0.0])))
            heads.append(turn @ points[0])
        index[joint] = len(names)
        names.append(f"bone{joint}")
        parents.append(-1 if parent < 0 else (index[PALM] if joint == 1 else index[parent]))
        direction = turn @ (points[hand.bone_end_point[joint]] - points[joint])
        roll = axis_angle_to_matrix(np.array([0.0, rng.uniform(-3, 3), 0.0]))
        matrices.append(rotation_between(np.array([0.0, 1.0, 0.0]), direction) @ roll)
        heads.append(turn @ points[joint])
    armature = ArmatureRest(names, np.array(parents), np.array(matrices), np.array(heads))
    return armature, {joint: index[joint] for joint in range(16)}


def posed_y_axes(armature: ArmatureRest, local: dict, frames: int) -> np.ndarray:
    """Forward through Blender's rule: posed = parent_posed @ (parent_rest^T rest) @ basis."""
    posed = np.empty((len(armature.names), frames, 3, 3))
    for bone, parent in enumerate(armature.parents):
        offset = armature.matrices[bone] if parent < 0 else armature.matrices[parent].T @ armature.matrices[bone]
        above = np.eye(3) if parent < 0 else posed[parent]
        posed[bone] = above @ offset @ local.get(bone, np.eye(3))
    return posed[..., :, 1]


def angle_deg(a, b):
    cosine = (a * b).sum(-1) / np.linalg.norm(a, axis=-1) / np.linalg.norm(b, axis=-1)
    return np.degrees(np.arccos(np.clip(cosine, -1, 1)))


@pytest.mark.parametrize("side", ["right", "left"])
@pytest.mark.parametrize("curled_rest", [False, True])
@pytest.mark.parametrize("key_wrist", [True, False])
def test_retargeted_bones_point_where_the_model_fk_points(side, curled_rest, key_wrist):
    rng = np.random.default_rng(3)
    hand = load_hand_rest(side)
    turn = axis_angle_to_matrix(rng.normal(0, 1.5, 3))
    curl = random_poses(rng, 1, 0.5)[0] * (np.arange(16) > 0)[:, None] if curled_rest else None
    armature, bones = armature_from_hand(hand, rng, turn, curl)
    pose = random_poses(rng, 40)
    local = retarget(pose, hand, armature, bones, key_wrist=key_wrist)
    y_axes = posed_y_axes(armature, local, len(pose))
    world = world_rotations(pose, hand.parents)
    if not key_wrist:
        world = np.swapaxes(world[:, :1], -1, -2) @ world
        assert bones[0] not in local  # the hand bone is left to the character's own animation
    expected = (turn @ world @ hand.bone_directions()[:, :, None])[..., 0]          # (N, 16, 3)
    for joint, bone in bones.items():
        if joint == 0 and not key_wrist:
            continue
        assert angle_deg(y_axes[bone], expected[:, joint]).max() < 1e-4, joint


def test_a_bone_map_without_the_hand_frame_bones_is_refused():
    rng = np.random.default_rng(0)
    hand = load_hand_rest("right")
    armature, bones = armature_from_hand(hand, rng, np.eye(3))
    del bones[7]
    with pytest.raises(RetargetError, match="pinky1"):
        retarget(random_poses(rng, 2), hand, armature, bones)


def test_quaternions_round_trip_and_stay_continuous():
    rng = np.random.default_rng(1)
    matrices = axis_angle_to_matrix(rng.normal(0, 2, (200, 3)))
    quaternions = matrix_to_quaternion(matrices)
    assert np.allclose(quaternion_to_matrix(quaternions), matrices, atol=1e-9)
    assert np.allclose(matrix_to_quaternion(axis_angle_to_matrix(np.array([np.pi, 0, 0]))), [0, 1, 0, 0], atol=1e-9)
    # A rotation sweeping through 180 degrees: shortest-form quaternions flip sign there, continuous ones do not.
    sweep = matrix_to_quaternion(axis_angle_to_matrix(np.linspace(0, 2 * np.pi, 50)[:, None] * [0, 0, 1.0]))
    smooth = continuous_quaternions(sweep)
    assert np.allclose(quaternion_to_matrix(smooth), quaternion_to_matrix(sweep), atol=1e-9)
    assert ((smooth[1:] * smooth[:-1]).sum(-1) > 0.9).all()
    assert ((sweep[1:] * sweep[:-1]).sum(-1) < 0).any()


def test_rotation_between_handles_opposite_directions():
    a = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    for b in (np.array([[0.0, -1.0, 0.0], [0.0, 0.0, 1.0]]), a):
        rotation = rotation_between(a, b)
        assert np.allclose((rotation @ a[..., None])[..., 0], b, atol=1e-9)
        assert np.allclose(np.linalg.det(rotation), 1)


def test_bundled_hand_data_is_what_the_backend_generates():
    from tools.export_hand_data import OUT, hand_data_arrays

    with np.load(OUT) as bundled:
        fresh = hand_data_arrays()
        assert sorted(bundled.files) == sorted(fresh)
        for name, array in fresh.items():
            # Equal but for float rounding (numpy 2 on Python 3.13 sums the centred rest points in another order).
            assert bundled[name].dtype == array.dtype and bundled[name].shape == array.shape, name
            same = (np.allclose(bundled[name], array, rtol=0, atol=1e-6) if array.dtype.kind == "f"
                    else np.array_equal(bundled[name], array))
            assert same, \
                f"{OUT.name}: {name} is stale; run tools/export_hand_data.py"
