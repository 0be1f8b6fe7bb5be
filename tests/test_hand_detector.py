"""The hand detector we own: MediaPipe's networks in ONNX Runtime, its graph logic in numpy.

Units check the graph logic on numbers worked by hand; parity tests hold it to mediapipe 0.10.21's
legacy solution (the old path, kept only as this oracle where mediapipe can still be installed) on
the shared photos and on a real clip.
"""
import hashlib
import importlib.util
import json

import cv2
import numpy as np
import pytest

from backend.detect import rects
from backend.detect.detection import tile_windows
from backend.detect.hands import HELD, PALM, TILE, HandDetector, _associate
from backend.detect.networks import MODELS, HandNetworks
from backend.detect.palm import anchor_centres, decode, weighted_nms

needs_mediapipe = pytest.mark.skipif(importlib.util.find_spec("mediapipe") is None,
                                     reason="mediapipe 0.10.21 (the parity oracle) installs on Python 3.12 at most")


def test_anchors_are_mediapipes_2016_cells():
    centres = anchor_centres()
    assert centres.shape == (2016, 2)
    # Stride 8: a 24x24 grid, two anchors a cell, row by row; then stride 16: 12x12, six a cell.
    np.testing.assert_allclose(centres[:3], [[0.5 / 24, 0.5 / 24]] * 2 + [[1.5 / 24, 0.5 / 24]])
    np.testing.assert_allclose(centres[1152:1159], [[0.5 / 12, 0.5 / 12]] * 6 + [[1.5 / 12, 0.5 / 12]])


def test_decoding_puts_a_palm_where_its_anchor_and_offsets_say():
    regressors, logits = np.zeros((2016, 18), np.float32), np.full((2016, 1), -10, np.float32)
    anchor = 1152 + 6 * (12 * 5 + 7)                       # stride 16, row 5, column 7
    regressors[anchor, :4] = [19.2, -9.6, 48, 96]          # centre shift (0.1, -0.05), size (0.25, 0.5) of 192
    regressors[anchor, 4:6] = [0, 96]                      # first keypoint half the image below the centre
    logits[anchor] = 2.0
    palms = decode(regressors, logits, min_score=0.5)
    centre = anchor_centres()[anchor] + [0.1, -0.05]
    np.testing.assert_allclose(palms.boxes, [[*(centre - [0.125, 0.25]), *(centre + [0.125, 0.25])]], atol=1e-6)
    np.testing.assert_allclose(palms.keypoints[0, 0], anchor_centres()[anchor] + [0, 0.5], atol=1e-6)
    assert palms.scores == pytest.approx([1 / (1 + np.exp(-2.0))])
    assert len(decode(regressors, logits, min_score=0.9).scores) == 0


def test_weighted_nms_averages_overlapping_palms_by_score_and_keeps_the_best_score():
    boxes = np.array([[0, 0, 10, 10], [1, 0, 11, 10], [50, 50, 60, 60]], float)
    keypoints = np.zeros((3, 7, 2))
    keypoints[1] += 3
    palms = weighted_nms(boxes, keypoints, np.array([0.6, 0.9, 0.7]))
    np.testing.assert_allclose(palms.scores, [0.9, 0.7])
    np.testing.assert_allclose(palms.boxes[0], [0.6, 0, 10.6, 10])   # (0.6 * 0 + 0.9 * 1) / 1.5
    np.testing.assert_allclose(palms.keypoints[0], 1.8)
    np.testing.assert_allclose(palms.boxes[1], boxes[2])


def test_a_crop_and_its_projection_back_are_inverse_and_upright():
    image = np.zeros((400, 600, 3), np.uint8)
    cv2.circle(image, (340, 160), 6, (255, 255, 255), -1)       # a dot up and to the right of the rect's centre
    rect = np.array([300.0, 200.0, 160.0, 160.0, np.pi / 2])     # turned a quarter: the image's +x is the crop's up
    crop = rects.crop(image, rect, 224)
    v, u = np.argwhere(crop[..., 0] > 128).mean(0)
    # Worked by hand: the dot is (+40, -40) px from the centre; the crop's up is the image's +x and its right
    # the image's +y, at 224/160 tensor pixels a pixel: up 56 and left 56 of the crop's centre.
    np.testing.assert_allclose((u, v), (112 - 56, 112 - 56), atol=1.0)
    back = rects.to_image(np.array([[[u, v]]]), rect[None], 224)[0, 0]
    np.testing.assert_allclose(back, [340, 160], atol=0.5)


def test_the_tracking_rect_is_turned_to_the_hand_and_bounds_it():
    # An upright open hand (wrist below the knuckles), then the same hand turned 90 degrees clockwise in the image.
    hand = np.zeros((21, 2))
    hand[0] = [0, 60]
    for finger, x in enumerate((-30, -15, 0, 15, 30)):
        hand[1 + 4 * finger:5 + 4 * finger] = [[x, 20 - 20 * k] for k in range(4)]
    centre = np.array([320.0, 240.0])
    # The tracking landmarks (wrist, thumb, and the two joints nearest the palm of each finger) span x -30..30,
    # y -20..60 about the centre: a 60 x 80 box centred at (320, 260); squared to its long side and doubled
    # (160), shifted a tenth of its height (8 px) toward the fingers (-y).
    upright = rects.from_landmarks((hand + centre)[None])[0]
    np.testing.assert_allclose(upright, [320, 252, 160, 160, 0], atol=1e-6)
    turned = rects.from_landmarks((hand[:, ::-1] * [-1, 1] + centre)[None])[0]   # (x, y) -> (-y, x)
    np.testing.assert_allclose(turned, [308, 240, 160, 160, np.pi / 2], atol=1e-6)   # fingers toward +x now


def test_a_palm_gives_mediapipes_hand_crop():
    # A 40 px palm box centred at (100, 200), wrist below the middle finger's knuckle: an upright hand.
    keypoints = np.zeros((1, 7, 2))
    keypoints[0, 0], keypoints[0, 2] = [100, 215], [100, 185]
    rect = rects.from_palms(np.array([[80.0, 180, 120, 220]]), keypoints)[0]
    # x2.6 (104 px), shifted half the box's height (20 px) toward the fingers.
    np.testing.assert_allclose(rect, [100, 180, 104, 104, 0], atol=1e-6)
    keypoints[0, 2] = [130, 215]   # knuckle to the right of the wrist: fingers toward +x, shift too
    rect = rects.from_palms(np.array([[80.0, 180, 120, 220]]), keypoints)[0]
    np.testing.assert_allclose(rect, [120, 200, 104, 104, np.pi / 2], atol=1e-6)


def test_association_lets_a_held_hand_win_keeps_mediapipes_later_palm_and_keeps_tiles_apart():
    held = np.array([100.0, 100, 80, 80, 0])
    near = held + [5, 0, 0, 0, 0]
    far = held + [300, 0, 0, 0, 0]
    kept = _associate([(near, PALM, None), (held, HELD, None), (far, PALM, None)])
    assert [source for _, source, _ in kept] == [PALM, HELD] and kept[0][0] is far
    # Two overlapping palms, best first as NMS gives them: MediaPipe keeps the later, weaker one.
    best, weaker = held, held + [10, 0, 0, 0, 0.5]
    assert [r is weaker for r, _, _ in _associate([(best, PALM, None), (weaker, PALM, None)])] == [True]
    # A tile is a view of its own: its palm stays beside the frame's overlapping one, and two tiles' stay too.
    kept = _associate([(best, PALM, None), (held, TILE, (0, 0, 10, 10)), (held, TILE + 1, (0, 0, 10, 10))])
    assert len(kept) == 3


def test_tiles_cover_the_frame_with_overlap():
    windows = tile_windows(1024, 683)
    assert len(windows) == 13
    covered = np.zeros((683, 1024), bool)
    for x0, y0, x1, y1 in windows:
        covered[y0:y1, x0:x1] = True
    assert covered.all()


def test_many_photos_in_one_batch_give_what_each_gives_alone(shared_data):
    frames = [cv2.imread(str(shared_data / "hamer_example" / name)) for name in ("test1.jpg", "test3.jpg", "test5.jpg")]
    networks = HandNetworks()
    alone = []
    for frame in frames:
        with HandDetector(max_hands=4, video=False, networks=networks) as detector:
            alone.append(detector.detect(frame))
    with HandDetector(max_hands=4, video=False, networks=networks) as detector:
        together = detector.detect_many(frames)
    assert [len(hands) for hands in together] == [len(hands) for hands in alone] == [2, 2, 2]
    for many, one in zip(together, alone):
        for a, b in zip(many, one):
            np.testing.assert_allclose(a.keypoints, b.keypoints, atol=1e-3)


def _pairs(expected, found):
    """One-to-one pairs (ours, theirs) of two equally long lists of one frame's hands, nearest keypoints first."""
    gaps = np.array([[np.abs(ours.keypoints - theirs.keypoints).mean() for theirs in expected] for ours in found])
    pairs = []
    while gaps.size and np.isfinite(gaps).any():
        i, j = np.unravel_index(np.argmin(gaps), gaps.shape)
        pairs.append((found[i], expected[j]))
        gaps[i, :], gaps[:, j] = np.inf, np.inf
    return pairs


def _keypoint_gap(a, b) -> float:
    """The largest keypoint distance between two detections, as a share of the hand's size (box diagonal)."""
    return float(np.linalg.norm(a.keypoints - b.keypoints, axis=1).max() / np.linalg.norm(np.ptp(a.keypoints, 0)))


@needs_mediapipe
@pytest.mark.parametrize("max_hands", [2, 4])
def test_the_photos_give_mediapipes_hands(shared_data, max_hands):
    from backend.detect.mediapipe_hands import MediaPipeHands

    for photo in sorted((shared_data / "hamer_example").glob("*.jpg")):
        frame = cv2.imread(str(photo))
        for extra_passes in (False, True):
            with MediaPipeHands(max_hands=max_hands, video=False, extra_passes=extra_passes) as oracle:
                expected = oracle.detect(frame)
            with HandDetector(max_hands=max_hands, video=False, extra_passes=extra_passes) as detector:
                found = detector.detect(frame)
            assert len(found) == len(expected), (photo.name, extra_passes)
            for ours, hand in _pairs(expected, found):
                assert ours.side == hand.side
                assert _keypoint_gap(ours, hand) < 0.01, photo.name
                assert np.linalg.norm(ours.world - hand.world, axis=1).max() < 0.002, photo.name
                assert ours.score == pytest.approx(hand.score, abs=0.01)


@needs_mediapipe
@pytest.mark.slow
def test_a_real_clip_is_tracked_as_mediapipe_tracks_it(shared_data, tmp_path):
    """The 300 real frames of realworld_dev as footage (measured on, never fitted to). Frame by frame without
    tracking the answers are MediaPipe's; with tracking, the same hands on the same sides in every frame, and
    MediaPipe's landmarks in most: each frame's crop comes from the last one's landmarks, so differences in the
    last digits carry on, and we hold only the hands given out (``backend.detect.hands``)."""
    from backend.detect.mediapipe_hands import MediaPipeHands
    from backend.training.evaluate_real import load_truth, write_footage

    images, _ = load_truth(shared_data / "realworld_dev")
    capture = cv2.VideoCapture(str(write_footage(images, tmp_path / "real.avi")))
    frames = [frame for ok, frame in iter(capture.read, (False, None)) if ok]
    assert len(frames) == 300
    results = {}
    for video in (False, True):
        # Frame by frame: MediaPipe's graph alone (the legacy wrapper's tiles run once per 15 calls, even on photos).
        with MediaPipeHands(max_hands=2, video=video, extra_passes=video) as oracle:
            expected = [oracle.detect(frame) for frame in frames[::1 if video else 10]]
        with HandDetector(max_hands=2, video=video, extra_passes=video) as detector:
            found = [detector.detect(frame) for frame in frames[::1 if video else 10]]
        assert [len(hands) for hands in found] == [len(hands) for hands in expected]
        pairs = [pair for mine, theirs in zip(found, expected) for pair in _pairs(theirs, mine)]
        assert all(ours.side == hand.side for ours, hand in pairs)
        gaps = np.array([_keypoint_gap(ours, hand) for ours, hand in pairs])
        world = np.array([np.linalg.norm(ours.world - hand.world, axis=1).max() for ours, hand in pairs])
        results[video] = (gaps, world)
    gaps, world = results[False]
    assert gaps.max() < 0.01 and world.max() < 0.002
    gaps, world = results[True]
    assert np.median(gaps) < 0.005 and (gaps < 0.01).mean() > 0.8 and np.median(world) < 0.002


def test_the_committed_graphs_are_the_converted_ones():
    """The ONNX files are the ones tools/convert_mediapipe_models.py wrote (not a stale copy or an LFS pointer)."""
    provenance = json.loads((MODELS / "provenance.json").read_text())
    assert set(provenance["graphs"]) == {"palm_detection_full.onnx", "hand_landmark_full.onnx"}
    for name, entry in provenance["graphs"].items():
        assert hashlib.sha256((MODELS / name).read_bytes()).hexdigest() == entry["onnx_sha256"], name
    assert "Apache License" in (MODELS / "LICENSE").read_text()
