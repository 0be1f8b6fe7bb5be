"""Only hands, and an uncertainty that knows weak evidence: the keypoint plausibility check and the
evidence terms, on the built-in hand's own keypoints and on MediaPipe's real fits to the shared photos."""
import cv2
import numpy as np
import pytest

from backend.detect.detection import PRESENCE_THRESHOLD
from backend.detect.hands import HandDetector
from backend.detect.plausibility import MAX_BEND_DEG, implausibility
from backend.capture.evidence import RESIDUAL_TOLERANCE_DEG, evidence_uncertainty, residual_angles_deg
from backend.metrics import bend_angles_deg
from tests.hand_poses import builtin_hand_keypoints
from tests.photo_labels import labelled_hand

CLEANUP_THRESHOLD_DEG = 16.0  # the Cleanup panel's default (maskhand_blender/ui/cleanup_properties.py)


def builtin_keypoints(count, seed=0):
    """(count, 21, 3) keypoints of the built-in right hand in random plausible poses, metres, camera frame
    (about 0.5 m in front of it), and the poses (count, 16, 3)."""
    keypoints, pose = builtin_hand_keypoints("right", count, seed)
    return keypoints - keypoints[:, :1] + np.array([0.0, 0.0, 0.5]), pose


def image_points(keypoints, focal=1000.0, centre=(320.0, 240.0)):
    """What MediaPipe's image landmarks would be: x, y projected (pixels), z relative in the same scale."""
    depth = keypoints[..., 2:]
    xy = focal * keypoints[..., :2] / depth + np.array(centre)
    z = focal * (depth - depth[..., :1, :]) / depth[..., :1, :]
    return np.concatenate([xy, z], -1)


def test_the_built_in_hand_in_any_pose_it_trains_on_is_plausible():
    keypoints, _ = builtin_keypoints(300)
    reasons = [implausibility(image_points(k), k - k.mean(0)) for k in keypoints]
    assert reasons == [None] * 300


def test_a_finger_bent_back_on_itself_a_stretched_bone_or_disagreeing_heads_are_not_a_hand():
    hand = builtin_keypoints(1, seed=1)[0][0]
    folded = hand.copy()
    folded[8] = folded[6] + 0.9 * (folded[6] - folded[7])  # the index tip folded back along its middle bone
    assert bend_angles_deg(folded).max() > MAX_BEND_DEG
    assert "bent" in implausibility(image_points(folded), folded)
    stretched = hand.copy()
    stretched[4] = stretched[3] + 15 * (stretched[4] - stretched[3])  # a thumb tip fifteen times too long
    assert "proportions" in implausibility(image_points(stretched), stretched)
    # Image landmarks whose thumb and little finger trade places against the world landmarks: the two heads
    # of the network disagree on what the hand is.
    swapped = list(range(21))
    swapped[1:5], swapped[17:21] = swapped[17:21], swapped[1:5]
    assert "disagree" in implausibility(image_points(hand)[swapped], hand)


def mediapipe_fits(photo, presence):
    """The landmark network's raw fits (image points (21, 3) in the photo's pixels, world landmarks) on a photo
    and its tiles, gated at ``presence``."""
    with HandDetector(max_hands=4, video=False) as detector:
        return [(np.concatenate([d.keypoints, d.depth[:, None]], 1), d.world)
                for d in detector.candidates(cv2.imread(str(photo)), presence)]


@pytest.mark.slow
def test_real_hands_pass_and_non_hands_are_stopped(shared_data):
    photos = sorted((shared_data / "hamer_example").glob("*.jpg"))
    fits = {photo.name: {"gated": mediapipe_fits(photo, PRESENCE_THRESHOLD), "ungated": mediapipe_fits(photo, 0.0)}
            for photo in photos}
    gated = [fit for photo in fits.values() for fit in photo["gated"]]
    # Every fit that passes MediaPipe's presence gate is one of our labelled hands, and passes the geometry too.
    assert len(gated) > 30
    assert all(labelled_hand(name, image[:, :2]) for name, photo in fits.items() for image, _ in photo["gated"])
    assert all(implausibility(*fit) is None for fit in gated)
    # Without the gate MediaPipe also fits secateurs, leaves and a trumpet: the gate is what stops them on
    # these photos; the geometry, with limits wide enough for fists, refuses the grossest of them on its own.
    non_hands = [fit for name, photo in fits.items() for fit in photo["ungated"] if not labelled_hand(name, fit[0][:, :2])]
    assert len(non_hands) >= 5
    assert 1 <= sum(implausibility(*fit) is not None for fit in non_hands) < len(non_hands)


def test_a_pose_that_lands_on_its_detections_keeps_the_model_uncertainty():
    keypoints, _ = builtin_keypoints(20, seed=2)
    detected = image_points(keypoints)[..., :2]
    residual = residual_angles_deg(keypoints, detected, 1000.0, 640, 480)
    assert residual.max() < 1e-6
    model = np.full((20, 16), 9.0)
    np.testing.assert_allclose(evidence_uncertainty(model, residual), model, rtol=1e-6)


def test_keypoints_no_hand_fits_make_the_hand_unsure_enough_for_cleanup():
    keypoints, _ = builtin_keypoints(20, seed=3)
    detected = image_points(keypoints)[..., :2]
    scrambled = detected.copy()
    scrambled[:, 1:] = detected[:, 1:][:, np.random.default_rng(0).permutation(20)]  # keypoints of the wrong joints
    residual = residual_angles_deg(keypoints, scrambled, 1000.0, 640, 480)
    assert np.median(residual, 1).min() > RESIDUAL_TOLERANCE_DEG
    model = np.full((20, 16), 9.0)  # a typical, clean hand's calibrated uncertainty: below the Cleanup threshold
    unsure = evidence_uncertainty(model, residual)
    assert unsure.max(1).min() > CLEANUP_THRESHOLD_DEG
    # Keypoints a little off (a few pixels of MediaPipe noise) leave a hand as sure as the model says.
    noisy = detected + np.random.default_rng(1).normal(0, 1.0, detected.shape)
    np.testing.assert_allclose(evidence_uncertainty(model, residual_angles_deg(keypoints, noisy, 1000.0, 640, 480)),
                               model)
