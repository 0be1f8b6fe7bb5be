"""Finding hands: real MediaPipe on real photographs, the tiled recall pass, and the left/right tracker."""
import cv2
import numpy as np

from backend.detect.mediapipe_hands import HandDetection, MediaPipeHands, merge_detections
from backend.detect.tracker import HandTracker


def detect(path, extra_passes):
    with MediaPipeHands(max_hands=4, video=False, extra_passes=extra_passes) as detector:
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
    with MediaPipeHands(max_hands=2, video=False) as detector:
        assert detector.detect(frame) == []


def hand_at(x, y, side, score=0.9, size=60.0):
    keypoints = np.array([[x, y]]) + np.random.default_rng(int(x + y)).uniform(-size / 2, size / 2, (21, 2))
    return HandDetection(keypoints, side, score)


def test_merge_keeps_the_better_of_overlapping_detections():
    a, b, c = hand_at(100, 100, "right", 0.95), hand_at(102, 101, "right", 0.8), hand_at(300, 100, "left", 0.9)
    assert merge_detections([b, a, c], 4) == [a, c]
    assert merge_detections([b, a, c], 1) == [a]


def test_tracker_keeps_identity_when_labels_flicker():
    tracker = HandTracker()
    sides = []
    for frame in range(30):
        left_label = "right" if frame % 4 == 1 else "left"   # MediaPipe flips this hand's label now and then
        detections = [hand_at(100 + frame, 200, left_label), hand_at(400 - frame, 200, "right")]
        assigned = tracker.update(detections)
        sides.append(assigned["left"].keypoints.mean(0)[0] < assigned["right"].keypoints.mean(0)[0])
    assert all(sides)


def test_tracker_follows_labels_that_persistently_disagree():
    tracker = HandTracker(sides=("right",), switch_after=5)
    assert tracker.update([hand_at(100, 100, "right")])["right"] is not None
    results = [tracker.update([hand_at(100, 100, "left")])["right"] for _ in range(12)]
    assert results[0] is not None  # continuity first ...
    assert results[-1] is None     # ... until the labels have said "left" for long enough
