"""The refinement (backend.capture.refine): MaskHand's pose fitted to MediaPipe's two 3D readings within its own uncertainty.

The readings here are the built-in hand's own keypoints in a pose MaskHand did not give, seen as MediaPipe reports
them: image landmarks in pixels with a relative depth, world landmarks in metres in a frame turned from the camera's.
"""
import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation

from backend.hand_model import load_hand_model
from backend.metrics import flexion_error_deg, pa_error_mm
from backend.capture.refine import landmark_readings, refine_poses
from tests.hand_poses import builtin_hand_keypoints


def mediapipe_readings(keypoints, seed=0):
    """Image landmarks (pixels: x, y; relative depth) and world landmarks (metres, a turned frame) of (M, 21, 3)."""
    rng = np.random.default_rng(seed)
    centred = keypoints - keypoints.mean(1, keepdims=True)
    image = 2500.0 * centred + np.array([320.0, 240.0, 0.0])              # ~200 px hands, depth in the x scale
    turn = Rotation.from_rotvec(rng.normal(0, 0.3, (len(keypoints), 3))).as_matrix()
    world = np.einsum("mij,mpj->mpi", turn, centred)
    return image[..., :2], image[..., 2] - image[:, :1, 2], world


def start_pose(pose, seed=1):
    """MaskHand's answer: the truth with every finger joint off by about 20 degrees."""
    rng = np.random.default_rng(seed)
    start = pose.copy()
    start[:, 1:] += rng.normal(0, np.radians(20) / np.sqrt(3), start[:, 1:].shape)
    return start.astype(np.float32)


def posed(hand, pose):
    with torch.no_grad():
        return hand(torch.as_tensor(pose, dtype=torch.float32), torch.zeros(len(pose), 10),
                    with_vertices=False).keypoints.numpy().astype(np.float64)


@pytest.mark.parametrize("side", ["right", "left"])
def test_an_unsure_answer_moves_onto_the_landmarks(side):
    keypoints, pose = builtin_hand_keypoints(side, 24, seed=3)
    hand, start = load_hand_model(side), start_pose(pose)
    refined = refine_poses(hand, start, np.zeros((24, 10), np.float32), np.full((24, 16), 30.0, np.float32),
                           *mediapipe_readings(keypoints)).pose
    before, after = posed(hand, start), posed(hand, refined)
    assert pa_error_mm(after, keypoints).mean() < 0.3 * pa_error_mm(before, keypoints).mean()
    assert flexion_error_deg(after, keypoints).mean() < 0.5 * flexion_error_deg(before, keypoints).mean()


def test_a_sure_answer_stays_and_each_joint_follows_its_own_uncertainty():
    keypoints, pose = builtin_hand_keypoints("right", 24, seed=4)
    hand, start = load_hand_model("right"), start_pose(pose)
    readings = mediapipe_readings(keypoints)
    sure = refine_poses(hand, start, np.zeros((24, 10), np.float32), np.full((24, 16), 0.05, np.float32), *readings).pose
    assert np.abs(sure[:, 1:] - start[:, 1:]).max() < np.radians(1.0)
    # Only the index finger (joints 1-3) unsure: it moves to the landmarks, the other fingers stay.
    prior = np.full((24, 16), 0.05, np.float32)
    prior[:, 1:4] = 30.0
    refined = refine_poses(hand, start, np.zeros((24, 10), np.float32), prior, *readings).pose
    moved = np.degrees(np.linalg.norm(refined - start, axis=-1)).mean(0)                # (16,) degrees
    assert moved[1:4].min() > 5.0 and moved[4:].max() < 1.0
    index = slice(3, 6)  # flexion_error_deg's columns of the index finger's joints
    after = flexion_error_deg(posed(hand, refined), keypoints)[:, index].mean()
    # Not all the way: the other fingers, held off the landmarks by their prior, pull the hand's fit a little.
    assert after < 0.6 * flexion_error_deg(posed(hand, start), keypoints)[:, index].mean()


def test_the_readings_do_not_depend_on_the_world_frame_s_turn_or_the_image_s_scale():
    keypoints, _ = builtin_hand_keypoints("right", 6, seed=5)
    image2d, depth, world = mediapipe_readings(keypoints, seed=0)
    _, _, turned = mediapipe_readings(keypoints, seed=9)
    first = landmark_readings(image2d, depth, world)
    second = landmark_readings(3 * image2d, 3 * depth, turned)
    for a, b in zip(first, second):
        np.testing.assert_allclose(a, b, atol=1e-9)
    assert np.allclose(first[0], first[1], atol=1e-9)  # two exact readings of one hand agree


def test_no_frames_refine_to_no_frames():
    empty = np.zeros((0, 16, 3), np.float32)
    assert refine_poses(load_hand_model("right"), empty, np.zeros((0, 10)), np.zeros((0, 16)), np.zeros((0, 21, 2)),
                        np.zeros((0, 21)), np.zeros((0, 21, 3))).pose.shape == (0, 16, 3)


def test_the_refined_pose_is_as_sure_as_its_prior_and_the_landmarks_together():
    """The posterior spread per finger joint: the prior's where the prior is far surer than the landmarks, less than
    the prior's where the landmarks add to it, never more; the root keeps MaskHand's own figure."""
    keypoints, pose = builtin_hand_keypoints("right", 12, seed=6)
    hand, start, readings = load_hand_model("right"), start_pose(pose), mediapipe_readings(keypoints)
    betas = np.zeros((12, 10), np.float32)
    prior = np.full((12, 16), 0.5, np.float32)
    prior[:, 1:4] = 30.0  # the index finger unsure
    posterior = refine_poses(hand, start, betas, prior, *readings).uncertainty
    np.testing.assert_allclose(posterior[:, 0], prior[:, 0])
    np.testing.assert_allclose(posterior[:, 4:], prior[:, 4:], rtol=0.02)
    assert (posterior[:, 1:4] < 0.9 * prior[:, 1:4]).all() and (posterior[:, 1:4] > 1.0).all()
    # The landmarks fix a joint's bending, hardly the turn about its own bone: the posterior (per axis, the root
    # mean square of the three) stays above a third of an unsure prior.
    assert (posterior[:, 1:4] > 30.0 / 3).all()


@pytest.mark.slow
def test_the_capture_moves_towards_mediapipe_s_world_landmarks_unless_asked_not_to(shared_data, tmp_path):
    """A real photo with two hands, captured with and without the refinement: the same hands on the same keypoints,
    and the refined 3D keypoints nearer MediaPipe's own world landmarks of each hand (nearer, not onto them: the image
    landmarks and MaskHand's prior weigh in too; MaskHand reads the world landmarks itself, so the decoded hand starts near
them: the right hand here goes from 7.8 to 7.5 mm)."""
    import cv2

    from backend.detect.hands import HandDetector
    from backend.capture.pipeline import run_capture
    from backend.capture.protocol import CaptureRequest
    from backend.capture.result import read_result

    photo = shared_data / "hamer_example" / "test5.jpg"
    results = {}
    for refine in (True, False):
        run_capture(CaptureRequest(job="r", video=str(photo), output=str(tmp_path / f"{refine}.npz"), refine=refine))
        results[refine] = read_result(tmp_path / f"{refine}.npz")
    with HandDetector(max_hands=2, video=False) as detector:
        detections = detector.detect(cv2.imread(str(photo)))
    names = results[True]["header"]["tracks"].tolist()
    assert names == results[False]["header"]["tracks"].tolist() and len(names) == 2
    for name in names:
        refined, decoded = results[True][name], results[False][name]
        assert refined["valid"][0] and decoded["valid"][0]
        np.testing.assert_array_equal(refined["keypoints2d"], decoded["keypoints2d"])
        world = min(detections, key=lambda d: np.abs(d.keypoints - refined["keypoints2d"][0]).sum()).world
        gap = {key: pa_error_mm(arrays["joints3d"][:1].astype(np.float64), world[None]).mean()
               for key, arrays in (("refined", refined), ("decoded", decoded))}
        assert gap["refined"] < 0.98 * gap["decoded"], f"{name}: {gap}"
