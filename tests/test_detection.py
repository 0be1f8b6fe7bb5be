"""Finding hands: MediaPipe's networks (ONNX Runtime) on real photographs, the tiled recall pass, only hands, sides by track."""
import tempfile
from pathlib import Path

import cv2
import numpy as np
import pytest

from backend.detect.handedness import settle_tracks
from backend.detect.detection import HandDetection, merge_detections
from backend.detect.hands import HandDetector
from backend.detect.tracker import HandTracker
from backend.capture.pipeline import run_capture
from backend.capture.protocol import CaptureRequest
from backend.capture.result import read_result, track_side
from tests.photo_labels import PHOTO_HANDS, labelled_hand


def detect(path, extra_passes):
    with HandDetector(max_hands=4, video=False, extra_passes=extra_passes) as detector:
        return detector.detect(cv2.imread(str(path)))


def test_mediapipe_finds_the_documented_hands(shared_data):
    photos = shared_data / "hamer_example"
    found = {name: len(detect(photos / name, extra_passes=False)) for name in ("test1.jpg", "test3.jpg", "test5.jpg")}
    assert found == {"test1.jpg": 2, "test3.jpg": 0, "test5.jpg": 2}  # as ../shared/data/README.md reports


def test_the_tiled_pass_finds_hands_plain_mediapipe_misses(shared_data):
    photos = shared_data / "hamer_example"
    hands = detect(photos / "test3.jpg", extra_passes=True)
    assert len(hands) == 2  # the two interlocked hands of the gesturing man
    for name in ("test1.jpg", "test5.jpg"):
        assert len(detect(photos / name, extra_passes=True)) == 2  # no duplicates of hands already found
    for detection in hands:
        assert detection.score >= 0.85 and np.ptp(detection.keypoints, 0).max() > 30


def test_no_false_hands_on_an_empty_frame():
    frame = np.dstack([np.linspace(0, 255, 320, dtype=np.uint8)[None].repeat(240, 0)] * 3)
    with HandDetector(max_hands=2, video=False) as detector:
        assert detector.detect(frame) == []


def hand_at(x, y, side, score=0.9, size=60.0):
    keypoints = np.array([[x, y]]) + np.random.default_rng(int(x + y)).uniform(-size / 2, size / 2, (21, 2))
    return HandDetection(keypoints, side, score)


def test_merge_keeps_the_better_of_overlapping_detections():
    a, b, c = hand_at(100, 100, "right", 0.95), hand_at(102, 101, "right", 0.8), hand_at(300, 100, "left", 0.9)
    assert merge_detections([b, a, c], 4) == [a, c]
    assert merge_detections([b, a, c], 1) == [a]


def test_merge_drops_a_tiny_hand_fitted_inside_another():
    hand = hand_at(100, 100, "right", 0.9, size=80.0)
    fragment = hand_at(95, 105, "left", 0.95, size=15.0)  # seen on the sample clip: a 9x18 px "hand" on a finger
    assert merge_detections([fragment, hand], 4) == [hand]
    neighbour = hand_at(150, 100, "left", 0.95, size=60.0)  # overlapping hands of similar size both stay
    assert len(merge_detections([neighbour, hand], 4)) == 2


def test_merge_drops_a_partial_fit_labelled_as_the_hand_but_keeps_a_hand_of_the_other_side_inside_its_box():
    hand = hand_at(100, 100, "right", 0.9, size=80.0)
    partial = hand_at(105, 95, "right", 0.95, size=40.0)  # seen on fists in video: a quarter-size skeleton on the fingers
    assert merge_detections([partial, hand], 4) == [hand]
    inside = hand_at(105, 95, "left", 0.92, size=40.0)  # test3.jpg: a left hand inside a right hand's spread fingers
    assert len(merge_detections([inside, hand], 4)) == 2


def test_a_momentary_partial_fit_does_not_take_the_hand_from_its_track():
    # Seen on a rendered clip: a small second skeleton appears on a hand for a frame; its new track must not take
    # the hand over two frames later, even where that would make the total assignment cost smaller.
    tracker = HandTracker()
    for row in range(4):
        tracker.update(row, [hand_at(150, 140, "right", 0.95, size=68.0)])
    tracker.update(4, [hand_at(150, 140, "right", 0.95, size=68.0), hand_at(144, 142, "left", 0.52, size=43.0)])
    hand = hand_at(151, 144, "right", 0.9, size=68.0)
    pairs = tracker.update(5, [hand, hand_at(172, 108, "left", 0.51, size=15.0)])
    assert [track.id for track, detection in pairs if detection is hand] == [0]


def run_tracker(frames):
    """frames: per frame [(label, x[, y[, score]])] -> the tracker after all of them."""
    tracker = HandTracker()
    for row, hands in enumerate(frames):
        tracker.update(row, [hand_at(x, rest[0] if rest else 200, label, *rest[1:]) for label, x, *rest in hands])
    return tracker


def named(settled):
    return [(hand.name, hand.frame_count) for hand in settled.hands]


def test_two_right_hands_in_one_frame_stay_two_right_tracks():
    # A handshake seen side on: two right hands, MediaPipe labels both right, one less surely.
    tracker = run_tracker([[("right", 100 + row, 200, 0.95), ("right", 400 - row, 200, 0.55)] for row in range(10)])
    settled = settle_tracks(tracker.tracks, ("left", "right"))
    assert [(hand.name, hand.side, hand.frame_count) for hand in settled.hands] == [
        ("right", "right", 10), ("left", "left", 0), ("right_2", "right", 10)]
    assert settled.overruled_side is None
    # The old tracker's fixed left/right slots made the less sure of the two a left hand: a confident detection is
    # never relabelled to fill an empty side.
    assert all(track.side == "right" for track in tracker.tracks)


def test_a_lone_hand_keeps_its_side_when_its_label_flips():
    # One hand moving slowly; MediaPipe calls it "left" in the first 3 and last 2 of 20 frames.
    frames = [[("left" if row < 3 or row >= 18 else "right", 100 + 3 * row)] for row in range(20)]
    tracker = run_tracker(frames)
    assert len(tracker.tracks) == 1
    assert named(settle_tracks(tracker.tracks, ("left", "right"))) == [("right", 20), ("left", 0)]
    assert named(settle_tracks(tracker.tracks, ("right",))) == [("right", 20)]


@pytest.mark.parametrize("labels", [("left", "right"), ("right", "right")])
def test_two_hands_crossing_keep_their_identities(labels):
    # Two hands move towards each other, pass (their boxes overlap for several frames) and go on.
    frames = [[(labels[0], 100 + 15 * row, 200), (labels[1], 400 - 15 * row, 215)] for row in range(21)]
    if labels[0] != labels[1]:
        frames[10] = [(labels[1], 250, 200), (labels[0], 250, 215)]  # the labels swap as they meet
    tracker = run_tracker(frames)
    assert len(tracker.tracks) == 2
    first, second = tracker.tracks
    assert np.all(np.diff([detection.keypoints.mean(0)[0] for detection in first.detections]) > 0)   # still moving right
    assert np.all(np.diff([detection.keypoints.mean(0)[0] for detection in second.detections]) < 0)  # still moving left
    if labels[0] != labels[1]:
        assert (first.side, second.side) == labels


def test_a_hand_that_leaves_and_comes_back_is_one_hand_and_a_far_jump_is_another_track():
    frames = [[("right", 100)]] * 5 + [[]] * 15 + [[("right", 600)]] * 5
    tracker = run_tracker(frames)
    assert len(tracker.tracks) == 2  # too long away to follow: a new track ...
    assert named(settle_tracks(tracker.tracks, ("left", "right"))) == [("right", 10), ("left", 0)]  # ... one hand


def test_a_one_sided_request_takes_the_lone_hand_in_view_whatever_its_label_and_says_so():
    # A right hand filmed side on, which MediaPipe calls left throughout (seen on the round-trip renders).
    tracker = run_tracker([[("left", 100 + row)] for row in range(8)])
    settled = settle_tracks(tracker.tracks, ("right",))
    assert named(settled) == [("right", 8)] and settled.overruled_side == "left"
    # Asked for the side MediaPipe sees, nothing is overruled; asked for both, the labels decide.
    assert settle_tracks(tracker.tracks, ("left",)).overruled_side is None
    assert named(settle_tracks(tracker.tracks, ("left", "right"))) == [("right", 0), ("left", 8)]
    # With two hands in view the labels decide, and the other side's hand is not taken.
    tracker = run_tracker([[("left", 100), ("right", 400)]] * 8)
    settled = settle_tracks(tracker.tracks, ("right",))
    assert named(settled) == [("right", 8)] and settled.overruled_side is None
    assert settled.hands[0].tracks[0].detections[0].keypoints.mean(0)[0] > 300
    # A clearly right hand and a request for the left: the user's word, and a warning (backend.capture.tracking).
    tracker = run_tracker([[("right", 100, 200, 0.99)]] * 8)
    settled = settle_tracks(tracker.tracks, ("left",))
    assert named(settled) == [("left", 8)] and settled.overruled_side == "right"


def test_names_follow_frames_present_right_before_left():
    tracker = run_tracker([[("left", 100), ("right", 400), ("right", 700)]] * 3 + [[("left", 100), ("right", 400)]] * 5)
    assert named(settle_tracks(tracker.tracks, ("left", "right"))) == [("right", 8), ("left", 8), ("right_2", 3)]


def test_a_momentary_hand_nested_in_another_is_dropped_but_interlocked_hands_stay():
    def hands_after(frames):
        tracker = HandTracker()
        for row, hands in enumerate(frames):
            tracker.update(row, [hand_at(x, 200, label, size=size) for label, x, size in hands])
        return sorted(hand.name for hand in settle_tracks(tracker.tracks, ("left", "right")).hands if hand.tracks)
    blip = [[("right", 100, 80.0)]] * 5 + [[("right", 100, 80.0), ("left", 95, 30.0)]] + [[("right", 100, 80.0)]] * 5
    assert hands_after(blip) == ["right"]
    interlocked = [[("right", 100, 80.0), ("left", 95, 40.0)]] * 8
    assert hands_after(interlocked) == ["left", "right"]
    apart = [[("right", 100, 80.0), ("left", 400, 30.0)]]
    assert hands_after(apart) == ["left", "right"]


def captured_hands(photo, max_hands=2):
    """[(track name, labelled hand or None)] for what the product's capture finds in a photo, with the defaults."""
    with tempfile.TemporaryDirectory() as folder:
        result_path = Path(folder) / "result.npz"
        run_capture(CaptureRequest(job="t", video=str(photo), output=str(result_path), samples=1, iterations=1,
                                   max_hands=max_hands))
        result = read_result(result_path)
    found = []
    for name in result["header"]["tracks"].tolist():
        if result[name]["valid"][0]:
            found.append((name, labelled_hand(photo.name, result[name]["keypoints2d"][0])))
    return found


@pytest.mark.slow
@pytest.mark.parametrize("photo", sorted(PHOTO_HANDS))
@pytest.mark.parametrize("max_hands", [2, 4])
def test_every_hand_found_in_the_photos_is_a_hand_on_its_own_side(shared_data, photo, max_hands):
    found = captured_hands(shared_data / "hamer_example" / photo, max_hands)
    labels = [label for _, label in found]
    assert None not in labels, f"a non-hand was captured in {photo}: {found}"
    assert len(set(labels)) == len(labels), f"one hand captured twice in {photo}: {found}"
    for name, label in found:
        assert track_side(name) == PHOTO_HANDS[photo][label][0], f"{photo}: the {label} came out as '{name}'"
    if photo == "test1.jpg":  # the OK sign and the front thumbs-up are both right hands
        assert {label for name, label in found if track_side(name) == "right"} == {"ok sign", "front thumbs-up"}
    # At least the hands found before tracks were hands (test3.jpg: the tiled pass finds both interlocked hands,
    # the left one inside the box of the right one's spread fingers).
    assert len(found) >= {"test1.jpg": 2, "test3.jpg": 2, "test5.jpg": 2}.get(photo, 0), found


@pytest.mark.slow
def test_real_footage_of_a_left_hand_is_one_left_hand(shared_data, tmp_path):
    """300 real frames of one person's left hand (realworld_dev: measured on, never fitted to), as footage the way
    its README prescribes (backend.training.evaluate_real). Every frame is captured, as one left hand."""
    from backend.training.evaluate_real import load_truth, write_footage

    images, _ = load_truth(shared_data / "realworld_dev")
    clip = write_footage(images, tmp_path / "real.avi")
    output = tmp_path / "real.npz"
    summary = run_capture(CaptureRequest(job="real", video=str(clip), output=str(output), samples=1, iterations=1))
    assert summary["hands"] == {"right": 0, "left": len(images)}
    assert read_result(output)["header"]["tracks"].tolist() == ["right", "left"]
