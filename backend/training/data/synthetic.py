"""Synthetic hands for training the default checkpoint: poses, cameras and noisy 2D cues.

No hand dataset can be downloaded here, so the default MaskHand checkpoint learns from
hands our own code generates. Each sample is one hand seen by a pinhole camera:

* **Pose** (MANO convention, right-hand frame: fingers along -x, palm towards -y, so a
  finger flexes about +z). A sample blends one or two *gesture families* (open, relaxed,
  fist, point, pinch, OK, peace, claw, cylinder and sphere grasps: the shapes hands take
  most) with Dirichlet weights, adds continuous per-joint variation, couples each DIP to its
  PIP (DIP ~ 2/3 PIP, the tendon coupling of real fingers) and clips every angle to
  anatomical limits (MCP -20..95 deg flexion, PIP 0..110, DIP 0..80, abduction ~+-20).
  The thumb has its own axes (flexion across the palm, CMC opposition and abduction).
* **View**: half the global orientations are uniform over all rotations, half are near the
  common "hand held up, palm or back to the camera" views, so every view is covered but the
  frequent ones are dense.
* **Camera**: a 640x480 pinhole camera (focal 500-900 px), the hand 0.25-1.2 m away and
  anywhere in the frame.
* **2D cues**, as a real detector (MediaPipe) gives them: the 21 keypoints with pixel
  noise proportional to the hand's size, per-keypoint confidences, whole fingers occluded
  (large drift, low confidence) or dropped (confidence 0, position meaningless), and
  occasional swaps of neighbouring fingers. A third of the samples carry uninformative
  confidences (all equal), as MediaPipe's legacy landmarker reports none per keypoint.
* **3D readings**, as MediaPipe gives them beside its 2D landmarks: a relative depth per
  image landmark (pixels, the x scale) and world landmarks (metres), each with Gaussian
  deviations per camera axis of the size ``backend.capture.refine`` measured on renders of the
  built-in hand (``IMAGE_SIGMA``, ``WORLD_SIGMA``; never on real footage), scaled per hand by
  0.5-1.5 so the network learns to weigh them, and far larger on occluded fingers. They are
  drawn from their own generator, so the hands and 2D cues of a seed are what they were
  before the readings existed (the test set stays comparable).
* **Side**: left hands are the mirror image of right ones (pose and keypoints).

Everything is drawn from ``numpy.random.Generator(seed)``: the same seed gives the same data.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy.spatial.transform import Rotation

from ...hand_model.builtin import THUMB_DIRECTION
from ...hand_model import HandModel, JOINT_NAMES, KEYPOINT_NAMES, load_hand_model, mirror_pose

IMAGE_SIZE = (640, 480)  # width, height in pixels
FINGERS = ("index", "middle", "ring", "pinky")
ALL_FINGERS = ("thumb",) + FINGERS

# Gesture families as curl per finger (0 open .. 1 fully flexed) plus thumb opposition
# (0 alongside the palm .. 1 across it) and finger spread (-1 together .. 1 splayed).
# Claw flexes the middle and distal joints with straight knuckles (mcp_share).
GESTURES = {
    #            thumb, index, middle, ring, pinky, opposition, spread, mcp_share
    "open":     (0.05, 0.00, 0.00, 0.00, 0.00, 0.1, 0.6, 1.0),
    "relaxed":  (0.20, 0.25, 0.30, 0.35, 0.40, 0.3, 0.1, 1.0),
    "fist":     (0.70, 0.95, 0.95, 0.95, 0.95, 0.8, -0.5, 1.0),
    "point":    (0.60, 0.00, 0.95, 0.95, 0.95, 0.7, -0.3, 1.0),
    "pinch":    (0.55, 0.45, 0.25, 0.20, 0.20, 0.9, 0.0, 1.0),
    "ok":       (0.60, 0.60, 0.10, 0.05, 0.05, 0.9, 0.4, 1.0),
    "peace":    (0.65, 0.00, 0.00, 0.95, 0.95, 0.7, 0.8, 1.0),
    "claw":     (0.40, 0.75, 0.75, 0.75, 0.75, 0.4, 0.5, 0.15),
    "cylinder": (0.45, 0.60, 0.62, 0.64, 0.66, 0.6, -0.4, 1.0),
    "sphere":   (0.35, 0.45, 0.45, 0.45, 0.45, 0.7, 0.9, 1.0),
}

# Anatomical limits in degrees.
MCP_FLEX, PIP_FLEX, DIP_FLEX = (-20.0, 95.0), (0.0, 110.0), (0.0, 80.0)
ABDUCTION = {"index": (-15.0, 20.0), "middle": (-12.0, 12.0), "ring": (-12.0, 12.0), "pinky": (-25.0, 15.0)}
SPREAD_DIRECTION = {"index": 1.0, "middle": 0.0, "ring": -0.6, "pinky": -1.0}  # + towards the thumb

# Thumb axes in the right hand's model frame (the built-in hand's thumb points along THUMB_DIRECTION);
# flexion curls it towards the palm, opposition swings it across the palm.
THUMB_FLEX_AXIS = np.cross(THUMB_DIRECTION, [0.0, -1.0, 0.0])
THUMB_FLEX_AXIS /= np.linalg.norm(THUMB_FLEX_AXIS)
THUMB_OPPOSITION_AXIS = np.array([1.0, 0.0, 0.0])
THUMB_ABDUCTION_AXIS = np.cross(THUMB_DIRECTION, THUMB_FLEX_AXIS)


@dataclass
class SyntheticBatch:
    """N samples. Poses and keypoints are in each sample's own side; crop cues are what a detector gives."""

    pose: np.ndarray            # (N, 16, 3) MANO axis-angle, global orientation in the camera frame
    betas: np.ndarray           # (N, 10)
    is_right: np.ndarray        # (N,) bool
    keypoints3d: np.ndarray     # (N, 21, 3) camera frame, metres
    keypoints2d: np.ndarray     # (N, 21, 2) true projection, pixels
    cues2d: np.ndarray          # (N, 21, 2) detector-like keypoints, pixels
    cue_confidence: np.ndarray  # (N, 21) in [0, 1]
    occluded: np.ndarray        # (N, 21) bool: the cue for this keypoint is unreliable (occluded or dropped)
    focal: np.ndarray           # (N,) pixels; principal point at the image centre
    cue_depth: np.ndarray       # (N, 21) MediaPipe-like relative depth of the image landmarks, pixels, wrist at 0
    cue_world: np.ndarray       # (N, 21, 3) MediaPipe-like world landmarks, metres, about the hand's centre
    image_size: tuple = IMAGE_SIZE


def sample_finger_pose(rng: np.random.Generator, count: int) -> np.ndarray:
    """(count, 15, 3) local axis-angle of the 15 finger joints (right-hand convention)."""
    names = list(GESTURES)
    table = np.array([GESTURES[name] for name in names])                      # (G, 8)
    first = rng.integers(len(names), size=count)
    second = rng.integers(len(names), size=count)
    weight = np.where(rng.random(count) < 0.4, 1.0, rng.beta(2.0, 2.0, size=count))[:, None]
    params = weight * table[first] + (1 - weight) * table[second]              # (count, 8)
    curls = np.clip(params[:, :5] + rng.normal(0, 0.12, size=(count, 5)), 0.0, 1.0)
    opposition = np.clip(params[:, 5] + rng.normal(0, 0.15, count), 0.0, 1.0)
    spread = np.clip(params[:, 6] + rng.normal(0, 0.3, count), -1.0, 1.0)
    mcp_share = params[:, 7]

    pose = np.zeros((count, 16, 3))
    for f, finger in enumerate(FINGERS, start=1):
        curl = curls[:, f]
        j1, j2, j3 = (JOINT_NAMES.index(f"{finger}{k}") for k in (1, 2, 3))
        mcp = np.clip(curl * 90.0 * mcp_share + rng.normal(0, 8, count), *MCP_FLEX)
        pip = np.clip(curl * 100.0 + rng.normal(0, 10, count), *PIP_FLEX)
        dip = np.clip(pip * 2 / 3 + rng.normal(0, 6, count), *DIP_FLEX)
        abduction = np.clip(spread * 12.0 * SPREAD_DIRECTION[finger] * (1 - 0.6 * curl) + rng.normal(0, 4, count),
                            *ABDUCTION[finger])
        twist = rng.normal(0, 3, size=(count, 3))
        pose[:, j1] = np.radians(np.stack([twist[:, 0], abduction, mcp], -1))
        pose[:, j2] = np.radians(np.stack([twist[:, 1], np.zeros(count), pip], -1))
        pose[:, j3] = np.radians(np.stack([twist[:, 2], np.zeros(count), dip], -1))

    t1, t2, t3 = (JOINT_NAMES.index(f"thumb{k}") for k in (1, 2, 3))
    thumb_curl = curls[:, 0]
    cmc = (np.radians(np.clip(opposition * 40 + rng.normal(0, 6, count), -10, 50))[:, None] * THUMB_OPPOSITION_AXIS
           + np.radians(np.clip(thumb_curl * 25 + rng.normal(0, 6, count), -15, 35))[:, None] * THUMB_FLEX_AXIS
           + np.radians(rng.normal(0, 8, count))[:, None] * THUMB_ABDUCTION_AXIS)
    mcp = np.radians(np.clip(thumb_curl * 55 + rng.normal(0, 8, count), -10, 70))[:, None] * THUMB_FLEX_AXIS
    ip = np.radians(np.clip(thumb_curl * 70 + rng.normal(0, 10, count), -15, 85))[:, None] * THUMB_FLEX_AXIS
    pose[:, t1], pose[:, t2], pose[:, t3] = cmc, mcp, ip
    return pose[:, 1:]


def sample_global_orientation(rng: np.random.Generator, count: int) -> np.ndarray:
    """(count, 3) axis-angle taking the hand's model frame into the camera frame (x right, y down, z forward)."""
    uniform = Rotation.random(count, random_state=rng)
    # Typical view: fingers up (model -x -> camera -y), palm (model -y) towards the camera (-z) or away.
    typical = Rotation.from_matrix(np.array([[0, 0, 1], [1, 0, 0], [0, 1, 0]], dtype=float))
    facing_away = Rotation.from_euler("y", np.where(rng.random(count) < 0.5, 0.0, 180.0), degrees=True)
    jitter = Rotation.from_rotvec(rng.normal(0, 0.5, size=(count, 3)))
    near_typical = jitter * facing_away * typical
    choose_uniform = rng.random(count) < 0.5
    rotvec = np.where(choose_uniform[:, None], uniform.as_rotvec(), near_typical.as_rotvec())
    return rotvec


class SyntheticHands:
    """Generates ``SyntheticBatch``es with a given hand model (the built-in hand by default)."""

    def __init__(self, seed: int, hand_models: dict[str, HandModel] | None = None):
        self.rng = np.random.default_rng(seed)
        self.reading_rng = np.random.default_rng((seed, 3))  # the 3D readings' own stream (module docstring)
        self.hands = hand_models or {"right": load_hand_model("right"), "left": load_hand_model("left")}

    def sample(self, count: int) -> SyntheticBatch:
        rng = self.rng
        right_pose = np.concatenate([sample_global_orientation(rng, count)[:, None],
                                     sample_finger_pose(rng, count)], 1)               # (N, 16, 3)
        betas = np.zeros((count, 10))
        betas[:, :4] = rng.normal(0, 0.8, size=(count, 4))
        is_right = rng.random(count) < 0.5
        pose = np.where(is_right[:, None, None], right_pose, mirror_pose(right_pose))

        keypoints = np.empty((count, 21, 3))
        with torch.no_grad():
            for side, mask in (("right", is_right), ("left", ~is_right)):
                if mask.any():
                    out = self.hands[side](torch.as_tensor(pose[mask], dtype=torch.float32),
                                           torch.as_tensor(betas[mask], dtype=torch.float32), with_vertices=False)
                    keypoints[mask] = out.keypoints.double().numpy()

        width, height = IMAGE_SIZE
        focal = rng.uniform(500, 900, count)
        depth = rng.uniform(0.25, 1.2, count)
        # Place the wrist so the hand's centre lands anywhere within the middle 80 % of the frame.
        target = np.stack([rng.uniform(-0.4, 0.4, count) * width, rng.uniform(-0.4, 0.4, count) * height], -1)
        centre = keypoints.mean(1)
        translation = np.concatenate([target * depth[:, None] / focal[:, None], depth[:, None]], -1) - centre
        keypoints3d = keypoints + translation[:, None]
        keypoints3d[..., 2] = np.maximum(keypoints3d[..., 2], 0.05)
        principal = np.array([width / 2, height / 2])
        keypoints2d = focal[:, None, None] * keypoints3d[..., :2] / keypoints3d[..., 2:] + principal

        cues, confidence, occluded = detector_errors(rng, keypoints2d)
        depth, world = landmark_3d_errors(self.reading_rng, keypoints3d, keypoints2d, occluded)
        return SyntheticBatch(pose=pose, betas=betas, is_right=is_right, keypoints3d=keypoints3d,
                              keypoints2d=keypoints2d, cues2d=cues, cue_confidence=confidence,
                              occluded=occluded, focal=focal, cue_depth=depth, cue_world=world)


def _finger_keypoints(finger: str) -> list[int]:
    return [KEYPOINT_NAMES.index(f"{finger}{k}") for k in (1, 2, 3)] + [KEYPOINT_NAMES.index(f"{finger}_tip")]


FINGER_KEYPOINTS = {finger: _finger_keypoints(finger) for finger in ALL_FINGERS}


def detector_errors(rng: np.random.Generator, keypoints2d: np.ndarray):
    """Corrupt true 2D keypoints (N, 21, 2) the way a real hand landmarker does.

    Returns cues (N, 21, 2), confidences (N, 21) and the occluded mask (N, 21).
    """
    count = keypoints2d.shape[0]
    hand_size = np.ptp(keypoints2d, axis=1).max(-1)                                  # (N,)
    noise_level = hand_size * rng.uniform(0.005, 0.025, count)
    cues = keypoints2d + rng.normal(size=keypoints2d.shape) * noise_level[:, None, None]
    confidence = np.clip(rng.normal(0.9, 0.06, size=(count, 21)), 0.5, 1.0)
    occluded = np.zeros((count, 21), dtype=bool)

    # Occluded fingers (an object, the other hand, the palm in front): the landmarker guesses a plausible
    # but wrong curl, its confidence drops. Dropped fingers: no information at all.
    finger_state = rng.choice(3, p=(0.82, 0.13, 0.05), size=(count, 5))  # 0 visible, 1 occluded, 2 dropped
    for f, finger in enumerate(ALL_FINGERS):
        ids = FINGER_KEYPOINTS[finger]
        base = keypoints2d[:, ids[0]]
        hidden = finger_state[:, f] > 0
        if not hidden.any():
            continue
        # A wrong guess: the finger's chain is shrunk or stretched and rotated about its base, plus noise.
        angle = rng.normal(0, 0.8, count)
        scale = rng.uniform(0.3, 1.2, count)
        rotation = np.stack([np.stack([np.cos(angle), -np.sin(angle)], -1), np.stack([np.sin(angle), np.cos(angle)], -1)], -2)
        guessed = base[:, None] + scale[:, None, None] * np.einsum("nij,nkj->nki", rotation, keypoints2d[:, ids] - base[:, None])
        guessed += rng.normal(size=guessed.shape) * (0.05 * hand_size)[:, None, None]
        dropped = finger_state[:, f] == 2
        guessed[dropped] = base[dropped, None] + rng.normal(size=(dropped.sum(), 4, 2)) * (0.2 * hand_size[dropped])[:, None, None]
        cues[hidden[:, None] & np.isin(np.arange(21), ids)[None]] = guessed[hidden].reshape(-1, 2)
        confidence[hidden[:, None] & np.isin(np.arange(21), ids)[None]] = np.where(
            dropped[hidden, None], 0.0, rng.uniform(0.05, 0.45, size=(hidden.sum(), 4))).reshape(-1)
        occluded[hidden[:, None] & np.isin(np.arange(21), ids)[None]] = True
        occluded[:, ids[0]] &= dropped  # the knuckle itself is still seen unless the finger is dropped

    # Occasional swaps of neighbouring fingers (a classic landmarker failure).
    swap = rng.random(count) < 0.03
    pair = rng.integers(1, 4, count)  # index<->middle, middle<->ring or ring<->pinky
    for n in np.flatnonzero(swap):
        a, b = FINGER_KEYPOINTS[ALL_FINGERS[pair[n]]], FINGER_KEYPOINTS[ALL_FINGERS[pair[n] + 1]]
        cues[n, a + b] = cues[n, b + a]
        occluded[n, a + b] = True

    uninformative = rng.random(count) < 1 / 3
    confidence[uninformative] = rng.uniform(0.6, 1.0, size=(uninformative.sum(), 1))
    return cues, confidence, occluded


DEPTH_SCALE_RANGE = (0.7, 1.3)  # the image landmarks' depth against the x scale, per hand
OCCLUDED_READING_FACTOR = 3.0  # an occluded finger's 3D readings are guesses too: this many times the usual deviation


def landmark_3d_errors(rng: np.random.Generator, keypoints3d: np.ndarray, keypoints2d: np.ndarray,
                       occluded: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """MediaPipe-like 3D readings of true keypoints (N, 21, 3) m (camera frame) seen at (N, 21, 2) px.

    Returns the image landmarks' relative depth (N, 21) px, wrist at 0, in the x scale (the pixels per metre of a
    weak-perspective fit of the 2D onto the 3D keypoints, as MediaPipe's z is in the x scale), and world landmarks
    (N, 21, 3) m about their centre; the depth is scaled per hand by ``DEPTH_SCALE_RANGE``, and each reading has deviations per axis of ``IMAGE_SIGMA`` / ``WORLD_SIGMA`` hand sizes
    (the mean distance from the centroid), scaled per hand by 0.5-1.5, and ``OCCLUDED_READING_FACTOR`` times
    that on the ``occluded`` (N, 21) keypoints."""
    from ...capture.refine import IMAGE_SIGMA, WORLD_SIGMA, hand_size

    count = len(keypoints3d)
    centred2d = keypoints2d - keypoints2d.mean(1, keepdims=True)
    centred3d = keypoints3d - keypoints3d.mean(1, keepdims=True)
    pixels_per_metre = (centred2d * centred3d[..., :2]).sum((1, 2)) / (centred3d[..., :2] ** 2).sum((1, 2))
    # MediaPipe documents its z as "roughly" the x scale: each hand's depth is scaled by DEPTH_SCALE_RANGE.
    depth_scale = rng.uniform(*DEPTH_SCALE_RANGE, count)
    depth = (keypoints3d[..., 2] - keypoints3d[:, :1, 2]) * (pixels_per_metre * depth_scale)[:, None]  # (N, 21) px
    spread = np.where(occluded, OCCLUDED_READING_FACTOR, 1.0)                                     # (N, 21)

    def deviation(sigma, size):  # (N, 21, len(sigma))
        level = rng.uniform(0.5, 1.5, count) * size
        return rng.normal(size=(count, 21, len(sigma))) * np.asarray(sigma) * (level[:, None] * spread)[..., None]

    image_size = hand_size(np.concatenate([keypoints2d, depth[..., None]], -1))
    depth = depth + deviation(IMAGE_SIGMA[2:], image_size)[..., 0]
    world = centred3d + deviation(WORLD_SIGMA, hand_size(keypoints3d))
    return depth, world
