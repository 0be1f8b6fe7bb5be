"""Our own MANO-layout hand: no licence needed, same joints and pose convention as MANO.

Right hand in MANO's model frame: the wrist at the origin, fingers along -x, the thumb
on the +z side, the palm facing -y (the back of the hand faces +y). Rest joint positions
are those of an average adult hand (palm 9 cm, middle finger 9.3 cm), chosen by us.
The left hand is this one mirrored in x, exactly as MANO's left hand mirrors its right.

The skin is a smooth surface with a hand's proportions (tapered fingers, webs, a thenar
pad, a short wrist), generated from this skeleton by tools/make_hand_surface.py and kept
as geometry only in builtin_surface.npz. Everything else is derived here from the skeleton:
- skinning: each vertex follows its nearest bone, blended with that bone's parent and
  children over a few millimetres around each joint (exp of minus the distance over BLEND_M);
- the fingertip vertices sit exactly on the skeleton's tips, skinned to their last bone
  alone, so the 21 keypoints do not depend on the surface;
- the joint regressor: per joint, the smallest weights over the skin around it that give
  the joint at rest and move it exactly with every shape direction.

Shape space (betas, 8 % per unit): 0 overall size, 1 finger length, 2 palm width,
3 thickness. MANO's betas 4-9 have no counterpart here and have no effect.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from .layout import JOINT_NAMES, NUM_JOINTS, PARENTS, SIDES, TIP_NAMES
from .model import NUM_POSE_BASIS, HandModelData

NUM_BETAS = 10
SHAPE_STEP = 0.08   # relative change per unit of beta
BLEND_M = 0.0012          # skinning falloff: a finger joint's blend reaches about 6 mm either side
KNUCKLE_BLEND_M = 0.003   # softer where a finger leaves the palm: the web between fingers is palm skin too
SURFACE_FILE = Path(__file__).with_name("builtin_surface.npz")


def _direction(x, y, z):
    vector = np.array([x, y, z], dtype=np.float64)
    return vector / np.linalg.norm(vector)


THUMB_DIRECTION = _direction(-0.62, -0.28, 0.73)

# Per finger: root joint position (m), pointing direction, segment lengths (m, last one to the tip),
# half-width and half-thickness of the cross-section at the root and at the tip (m).
_FINGERS = {
    "index": ((-0.088, 0.004, 0.026), _direction(-1, 0, 0.08), (0.039, 0.023, 0.021), (0.0095, 0.0085, 0.0075, 0.0065)),
    "middle": ((-0.092, 0.004, 0.004), _direction(-1, 0, 0.0), (0.043, 0.027, 0.023), (0.0100, 0.0090, 0.0078, 0.0068)),
    "ring": ((-0.086, 0.002, -0.016), _direction(-1, 0, -0.07), (0.040, 0.026, 0.022), (0.0093, 0.0083, 0.0072, 0.0063)),
    "pinky": ((-0.076, -0.001, -0.034), _direction(-1, 0, -0.16), (0.031, 0.019, 0.020), (0.0082, 0.0072, 0.0064, 0.0056)),
    # The thumb's first segment is its metacarpal, from the CMC joint near the wrist.
    "thumb": ((-0.024, -0.012, 0.022), THUMB_DIRECTION, (0.040, 0.032, 0.028), (0.0125, 0.0105, 0.0085, 0.0072)),
}
# Palm outline seen from the back (x, z), radial (thumb) side first.
PALM_OUTLINE = ((0.0, 0.030), (-0.050, 0.036), (-0.084, 0.035), (-0.090, 0.004), (-0.082, -0.026),
                (-0.070, -0.044), (0.0, -0.030))
# The palm bone's reach for skinning: from the wrist to each knuckle and back into the wrist.
_FOREARM_END = (0.05, 0.0, 0.0)


def _finger_points(finger: str) -> np.ndarray:
    """(4, 3) the finger's three joints and its tip, at rest."""
    root, direction, lengths, _ = _FINGERS[finger]
    return np.asarray(root) + np.concatenate([[0.0], np.cumsum(lengths)])[:, None] * direction


def finger_stations() -> dict:
    """Per finger: four (centre (3,), radius) along its axis: the three joints and the fingertip
    cap's centre, one tip radius short of the tip, so the surface ends on the tip."""
    stations = {}
    for finger, (_, direction, _, radii) in _FINGERS.items():
        ends = _finger_points(finger)
        radius = (np.linspace(radii[0], radii[2], 4) + np.linspace(radii[1], radii[3], 4)) / 2
        ends[3] -= radius[3] * direction
        stations[finger] = [(ends[k], float(radius[k])) for k in range(4)]
    return stations


@lru_cache(maxsize=None)
def builtin_hand_data(side: str = "right") -> HandModelData:
    """The built-in hand for ``side`` as ``HandModelData`` (cached; arrays are shared, do not modify)."""
    if side not in SIDES:
        raise ValueError(f"hand side must be one of {SIDES}, not {side!r}")
    right = _build_right_hand()
    return right if side == "right" else _mirror(right)


class _Skeleton:
    """The rest skeleton: joints, fingertips, and for every joint its finger and bone segments."""

    def __init__(self):
        self.joints = np.zeros((NUM_JOINTS, 3))
        self.tips = np.zeros((len(TIP_NAMES), 3))
        self.finger_of_joint = [None] * NUM_JOINTS
        self.segments = [[] for _ in range(NUM_JOINTS)]   # per joint: (start, end) pairs its bone covers
        for finger in _FINGERS:
            points = _finger_points(finger)
            for k in range(3):
                joint = JOINT_NAMES.index(f"{finger}{k + 1}")
                self.joints[joint] = points[k]
                self.finger_of_joint[joint] = finger
                self.segments[joint].append((points[k], points[k + 1]))
            self.tips[TIP_NAMES.index(finger)] = points[3]
            self.segments[0].append((np.zeros(3), points[0]))    # the palm reaches every finger's root
        self.segments[0].append((np.zeros(3), np.asarray(_FOREARM_END)))

    def shape_directions(self, points: np.ndarray, finger: str | None) -> np.ndarray:
        """(N, 3, 4) shape directions of ``points`` moving with ``finger``'s bones (None: the palm's)."""
        shape = np.zeros((len(points), 3, 4))
        shape[:, :, 0] = points                                  # size: scale about the wrist
        if finger is None:
            shape[:, 2, 2] = points[:, 2]                        # palm width
            shape[:, 1, 3] = points[:, 1]                        # thickness
            return shape
        root, direction = np.asarray(_FINGERS[finger][0]), _FINGERS[finger][1]
        centre = root + np.maximum((points - root) @ direction, 0.0)[:, None] * direction
        shape[:, :, 1] = centre - root                           # finger length: stretch from the root
        shape[:, 2, 2] = root[2]                                 # palm width: the whole finger moves sideways
        shape[:, :, 3] = points - centre                         # thickness: grow away from the bone axis
        return shape


def _segment_distance(points: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    along = end - start
    t = np.clip((points - start) @ along / (along @ along), 0.0, 1.0)
    return np.linalg.norm(points - start - t[:, None] * along, axis=1)


def _skin_weights(vertices: np.ndarray, skeleton: _Skeleton) -> np.ndarray:
    """(V, 16): each vertex follows its nearest bone, blended softly with that bone's parent and
    children only, so joints bend without creases and a finger never drags its neighbour's skin."""
    distance = np.stack([np.min([_segment_distance(vertices, *segment) for segment in segments], axis=0)
                         for segments in skeleton.segments], axis=1)                     # (V, 16)
    nearest = distance.argmin(1)
    related = np.eye(NUM_JOINTS, dtype=bool)
    for joint, parent in enumerate(PARENTS):
        if parent >= 0:
            related[joint, parent] = related[parent, joint] = True
    allowed = related[nearest]
    on_palm = nearest == 0                  # the palm blends with the one finger it is nearest, not all five
    children = np.array([parent == 0 for parent in PARENTS])
    nearest_child = np.where(children, distance, np.inf).argmin(1)
    allowed[on_palm] = False
    allowed[on_palm, 0] = True
    allowed[np.flatnonzero(on_palm), nearest_child[on_palm]] = True
    falloff = np.full((NUM_JOINTS, NUM_JOINTS), BLEND_M)
    falloff[0, children] = falloff[children, 0] = KNUCKLE_BLEND_M
    weights = np.exp(-(distance - distance[np.arange(len(vertices)), nearest, None]) / falloff[nearest]) * allowed
    weights[weights < 0.01] = 0.0
    return weights / weights.sum(1, keepdims=True)


def _joint_regressor(vertices: np.ndarray, shape: np.ndarray, skeleton: _Skeleton) -> np.ndarray:
    """(16, V): per joint, minimum-norm weights over nearby skin that reproduce the joint's rest
    position and its motion under each shape direction exactly (and sum to one)."""
    regressor = np.zeros((NUM_JOINTS, len(vertices)))
    for joint in range(NUM_JOINTS):
        centre = skeleton.joints[joint]
        nearby = np.argsort(np.linalg.norm(vertices - centre, axis=1))[:60]
        wanted = skeleton.shape_directions(centre[None], skeleton.finger_of_joint[joint])[0]   # the wrist's: zero
        system = np.concatenate([vertices[nearby].T, shape[nearby].reshape(len(nearby), 12).T, np.ones((1, len(nearby)))])
        target = np.concatenate([centre, wanted.reshape(12), [1.0]])
        weights = np.linalg.lstsq(system, target, rcond=None)[0]
        if np.abs(system @ weights - target).max() > 1e-9:
            raise RuntimeError(f"the built-in hand's skin cannot carry joint {JOINT_NAMES[joint]}")
        regressor[joint, nearby] = weights
    return regressor


def _build_right_hand() -> HandModelData:
    skeleton = _Skeleton()
    with np.load(SURFACE_FILE) as surface:
        vertices, faces = surface["vertices"].astype(np.float64), surface["faces"].astype(np.int64)
    tip_vertex_ids = tuple(int(np.argmin(np.linalg.norm(vertices - tip, axis=1))) for tip in skeleton.tips)
    vertices[list(tip_vertex_ids)] = skeleton.tips
    weights = _skin_weights(vertices, skeleton)
    for tip, finger in zip(tip_vertex_ids, TIP_NAMES):           # keypoints: the tip rides its last bone only
        weights[tip] = 0.0
        weights[tip, JOINT_NAMES.index(f"{finger}3")] = 1.0
    shape = weights[:, 0, None, None] * skeleton.shape_directions(vertices, None)
    for joint in range(1, NUM_JOINTS):
        shape += weights[:, joint, None, None] * skeleton.shape_directions(vertices, skeleton.finger_of_joint[joint])
    shapedirs = np.zeros((len(vertices), 3, NUM_BETAS))
    shapedirs[:, :, :4] = SHAPE_STEP * shape
    return HandModelData(
        name="builtin", side="right", v_template=vertices, shapedirs=shapedirs,
        posedirs=np.zeros((len(vertices), 3, NUM_POSE_BASIS)), J_regressor=_joint_regressor(vertices, shape, skeleton),
        weights=weights, faces=faces, tip_vertex_ids=tip_vertex_ids,
    )


def _mirror(right: HandModelData) -> HandModelData:
    """The left hand: reflect x, and reverse the faces' winding so they still face outwards."""
    flip = np.array([-1.0, 1.0, 1.0])
    return HandModelData(
        name=right.name, side="left", v_template=right.v_template * flip,
        shapedirs=right.shapedirs * flip[:, None], posedirs=right.posedirs, J_regressor=right.J_regressor,
        weights=right.weights, faces=right.faces[:, ::-1].copy(), tip_vertex_ids=right.tip_vertex_ids,
    )
