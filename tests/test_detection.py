"""Finding hands: real MediaPipe on real photographs, the tiled recall pass, and the left/right tracker."""
import cv2
import numpy as np

from backend.detect.handedness import SideTrack, nested_blips, relabelled_frames
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


def test_merge_drops_a_tiny_hand_fitted_inside_another():
    hand = hand_at(100, 100, "right", 0.9, size=80.0)
    fragment = hand_at(95, 105, "left", 0.95, size=15.0)  # seen on the sample clip: a 9x18 px "hand" on a finger
    assert merge_detections([fragment, hand], 4) == [hand]
    neighbour = hand_at(150, 100, "left", 0.95, size=60.0)  # overlapping hands of similar size both stay
    assert len(merge_detections([neighbour, hand], 4)) == 2


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


def filed_by_side(frames, size=60.0):
    """[(side, x[, size])] per frame -> the {side: SideTrack} the pipeline keeps after tracking."""
    tracks = {side: SideTrack(np.zeros(len(frames), bool), np.zeros((len(frames), 21, 2)), np.zeros(len(frames)))
              for side in ("left", "right")}
    for row, hands in enumerate(frames):
        for side, x, *own_size in hands:
            tracks[side].valid[row] = True
            tracks[side].keypoints2d[row] = hand_at(x, 200, side, size=own_size[0] if own_size else size).keypoints
            tracks[side].score[row] = 0.9
    return tracks


def test_a_lone_hand_keeps_one_side_when_its_label_flips():
    # One hand moving slowly; MediaPipe calls it "left" in the first 4 and last 3 of 20 frames.
    frames = [[("left" if row < 4 or row >= 17 else "right", 100 + 3 * row)] for row in range(20)]
    moves = relabelled_frames(filed_by_side(frames))
    assert moves == [(row, "left", "right") for row in (0, 1, 2, 3, 17, 18, 19)]


def test_handedness_is_not_touched_with_two_hands_in_view_or_across_a_gap_or_a_jump():
    two_hands = [[("left", 100), ("right", 400)]] * 6 + [[("left", 100)]]
    assert relabelled_frames(filed_by_side(two_hands)) == []
    # A right hand leaves; later a left hand comes in: two runs, each keeps its own side.
    gap = [[("right", 100)]] * 5 + [[]] + [[("left", 100)]] * 3
    assert relabelled_frames(filed_by_side(gap)) == []
    # Without a gap, but the new hand appears far away: a different hand, not a flip.
    jump = [[("right", 100)]] * 5 + [[("left", 600)]] * 3
    assert relabelled_frames(filed_by_side(jump)) == []
    # One side captured: nothing to move between.
    only_right = {"right": filed_by_side([[("right", 100)]] * 3)["right"]}
    assert relabelled_frames(only_right) == []


def test_a_momentary_hand_nested_in_another_is_dropped_but_interlocked_hands_stay():
    frames = [[("right", 100, 80.0)]] * 5 + [[("right", 100, 80.0), ("left", 95, 30.0)]] + [[("right", 100, 80.0)]] * 5
    assert nested_blips(filed_by_side(frames)) == [(5, "left")]
    interlocked = [[("right", 100, 80.0), ("left", 95, 40.0)]] * 8
    assert nested_blips(filed_by_side(interlocked)) == []
    apart = [[("right", 100, 80.0), ("left", 400, 30.0)]]
    assert nested_blips(filed_by_side(apart)) == []
