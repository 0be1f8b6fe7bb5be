"""Is a detection a hand? A check of MediaPipe's 21 keypoints against what a hand can make.

MediaPipe's landmark network fits a hand skeleton to whatever its crop holds, and its presence
score does not always say no: a tile of a frying pan came back as a hand. Three tests, each on
MediaPipe's own outputs:

* **Bone proportions.** Each of the 20 bones, measured in MediaPipe's world landmarks
  (metres), against the palm (wrist to middle knuckle), within a factor ``PROPORTION_FACTOR``
  of the built-in hand's proportion (``backend.hand_model``).
* **Joint angles.** The bending angle at each of the 15 finger joints (between the bone in and
  the bone out) at most ``MAX_BEND_DEG``: finger joints flex to about 90 (knuckle) to 120
  degrees (middle joint).
* **The two landmark heads agree.** The image landmarks (x, y in pixels, MediaPipe's relative
  z in the same scale) are close to a rotated, scaled copy of the world landmarks for a hand;
  garbage fits disagree. Measured as the Procrustes residual relative to the hand's spread.

The limits are wide on purpose: MediaPipe's fits to real hands it sees poorly (a fist, a grasp)
are distorted too, and what only looks odd should show as a larger uncertainty
(``backend.capture.evidence``), not as a lost frame. What goes is what no hand can make. For scale,
from our own data: the built-in hand's training poses bend at most 110 degrees and disagree at
most 0.14 at half a metre; MediaPipe's fits to our renders of it (tools/sample_clip.py) reach
proportions of 0.14, bends of 123 degrees and disagreement of 0.51 on frames whose fit is still
roughly right, and bends of 144-161 degrees and proportions of 0.08 on fists whose fit is not.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..hand_model.builtin import builtin_hand_data
from ..hand_model.layout import KEYPOINT_PARENTS, mano_to_openpose
from ..metrics import bend_angles_deg, procrustes_align

PROPORTION_FACTOR = 10.0
MAX_BEND_DEG = 140.0
MAX_HEAD_DISAGREEMENT = 0.6
PALM = (0, 9)  # wrist, middle finger knuckle (OpenPose order)


def bone_lengths(points: np.ndarray) -> np.ndarray:
    """(..., 21, D) keypoints -> (..., 20) lengths of the bones from each keypoint to its parent."""
    parents = np.asarray(KEYPOINT_PARENTS[1:])
    return np.linalg.norm(points[..., 1:, :] - points[..., parents, :], axis=-1)


def head_disagreement(image_points: np.ndarray, world: np.ndarray) -> float:
    """Residual of the best similarity transform of ``world`` (21, 3) onto ``image_points`` (21, 3)
    (``metrics.procrustes_align``), relative to the image points' spread about their centre (0: the same shape)."""
    target = image_points - image_points.mean(0)
    spread = float((target ** 2).sum())
    if spread <= 0 or np.ptp(world, 0).max() <= 0:
        return np.inf
    aligned = procrustes_align(world[None], image_points[None])[0]
    return float(np.sqrt(((aligned - image_points) ** 2).sum() / spread))


@lru_cache(maxsize=1)
def _reference_proportions() -> np.ndarray:
    """(20,) the built-in hand's bone lengths over its palm length, at rest."""
    hand = builtin_hand_data("right")
    joints = hand.J_regressor @ hand.v_template                                           # (16, 3)
    rest = mano_to_openpose(np.concatenate([joints, hand.v_template[list(hand.tip_vertex_ids)]]))  # (21, 3)
    return bone_lengths(rest) / np.linalg.norm(rest[PALM[1]] - rest[PALM[0]])


def implausibility(image_points: np.ndarray, world: np.ndarray) -> str | None:
    """Why keypoints are not a hand's, or None when they pass every test.

    image_points: (21, 3) pixels (x, y) and MediaPipe's relative z, in the same scale;
    world: (21, 3) MediaPipe's world landmarks, metres."""
    palm = np.linalg.norm(world[PALM[1]] - world[PALM[0]])
    if not np.isfinite(world).all() or palm <= 0:
        return "degenerate world landmarks"
    proportions = bone_lengths(world) / palm / _reference_proportions()
    if proportions.min() < 1 / PROPORTION_FACTOR or proportions.max() > PROPORTION_FACTOR:
        return f"bone proportions {proportions.min():.2f}-{proportions.max():.2f} of a hand's"
    bend = bend_angles_deg(world).max()
    if bend > MAX_BEND_DEG:
        return f"a finger joint bent {bend:.0f} degrees"
    disagreement = head_disagreement(image_points, world)
    if disagreement > MAX_HEAD_DISAGREEMENT:
        return f"image and world landmarks disagree ({disagreement:.2f})"
    return None
