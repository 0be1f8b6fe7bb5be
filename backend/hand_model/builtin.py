"""Our own MANO-layout hand: no licence needed, same joints and pose convention as MANO.

Right hand in MANO's model frame: the wrist at the origin, fingers along -x, the thumb
on the +z side, the palm facing -y (the back of the hand faces +y). Rest joint positions
are those of an average adult hand (palm 9 cm, middle finger 9.3 cm), chosen by us.
The left hand is this one mirrored in x, exactly as MANO's left hand mirrors its right.

The mesh is deliberately simple: an eight-sided tube per finger segment, closed at both
ends, rigidly skinned to its joint, and a slab for the palm skinned to the wrist. Each
joint is the centre of the first ring of its segment (the palm's wrist edge for joint 0),
so the joint regressor reproduces the rest joints exactly under every shape.

Shape space (betas, 8 % per unit): 0 overall size, 1 finger length, 2 palm width,
3 thickness. MANO's betas 4-9 have no counterpart here and have no effect.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from .layout import JOINT_NAMES, NUM_JOINTS, SIDES, TIP_NAMES
from .model import NUM_POSE_BASIS, HandModelData

NUM_BETAS = 10
SHAPE_STEP = 0.08  # relative change per unit of beta
RING_SIDES = 8


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
# Palm outline seen from the back, radial (thumb) side first; the palm is a slab this thick.
_PALM_OUTLINE = ((0.0, 0.030), (-0.050, 0.036), (-0.084, 0.035), (-0.090, 0.004), (-0.082, -0.026),
                 (-0.070, -0.044), (0.0, -0.030))
_PALM_HALF_THICKNESS = 0.013


@lru_cache(maxsize=None)
def builtin_hand_data(side: str = "right") -> HandModelData:
    """The built-in hand for ``side`` as ``HandModelData`` (cached; arrays are shared, do not modify)."""
    if side not in SIDES:
        raise ValueError(f"hand side must be one of {SIDES}, not {side!r}")
    right = _build_right_hand()
    return right if side == "right" else _mirror(right)


def _build_right_hand() -> HandModelData:
    mesh = _MeshBuilder()
    mesh.add_palm()
    tip_vertex_ids = {}
    for finger, (root, direction, lengths, radii) in _FINGERS.items():
        tip_vertex_ids[finger] = mesh.add_finger(finger, np.array(root), direction, lengths, radii)
    return mesh.finish(tuple(tip_vertex_ids[name] for name in TIP_NAMES))


class _MeshBuilder:
    """Accumulates vertices, faces, skinning and shape directions part by part."""

    def __init__(self):
        self.vertices, self.faces, self.joint_of_vertex, self.shape = [], [], [], []
        self.joint_rings = {}  # joint index -> vertex ids whose mean is the joint

    def _add_vertex(self, position, joint, shape_directions):
        self.vertices.append(np.asarray(position, dtype=np.float64))
        self.joint_of_vertex.append(joint)
        self.shape.append(np.asarray(shape_directions, dtype=np.float64))  # (3, 4)
        return len(self.vertices) - 1

    def add_palm(self):
        """The palm slab, skinned to the wrist. Joint 0 is the centre of its wrist edge."""
        outline = np.array(_PALM_OUTLINE)
        rows = {}
        for sign in (+1, -1):  # back (+y), then palm side (-y)
            rows[sign] = []
            for x, z in outline:
                position = (x, sign * _PALM_HALF_THICKNESS, z)
                shape = np.zeros((3, 4))
                shape[:, 0] = position                      # size: scale about the wrist
                shape[2, 2] = z                             # palm width
                shape[1, 3] = position[1]                   # thickness
                rows[sign].append(self._add_vertex(position, 0, shape))
        back, front = rows[+1], rows[-1]
        count = len(outline)
        for i in range(1, count - 1):  # fan triangles: back faces +y, palm side faces -y
            self.faces.append((back[0], back[i + 1], back[i]))
            self.faces.append((front[0], front[i], front[i + 1]))
        for i in range(count):  # the rim, outline order is clockwise seen from +y
            j = (i + 1) % count
            self.faces.append((back[i], front[j], front[i]))
            self.faces.append((back[i], back[j], front[j]))
        first, last = 0, count - 1  # the wrist edge runs from the last outline point to the first
        self.joint_rings[0] = [back[first], back[last], front[first], front[last]]

    def add_finger(self, finger, root, direction, lengths, radii):
        """Three closed tubes from ``root`` along ``direction``; returns the fingertip vertex id."""
        joints = [JOINT_NAMES.index(f"{finger}{k}") for k in (1, 2, 3)]
        ends = root + np.cumsum(lengths)[:, None] * direction       # (3, 3) ends of the segments
        starts = np.vstack([root, ends[:-1]])
        back = np.array([0.0, 1.0, 0.0]) - direction[1] * direction  # cross-section axes
        back /= np.linalg.norm(back)
        side = np.cross(direction, back)
        half_width = np.linspace(radii[0], radii[2], 4)
        half_thickness = np.linspace(radii[1], radii[3], 4)
        tip = None
        for segment, joint in enumerate(joints):
            rings = []
            for end, at in ((starts[segment], segment), (ends[segment], segment + 1)):
                # The distal ring sits short of the tip so that the tip vertex closes a rounded cap.
                centre = end - direction * half_thickness[at] * (at == 3)
                ring = []
                for k in range(RING_SIDES):
                    angle = 2 * np.pi * k / RING_SIDES
                    offset = np.cos(angle) * half_thickness[at] * back + np.sin(angle) * half_width[at] * side
                    ring.append(self._add_vertex(centre + offset, joint, self._finger_shape(centre, offset, root)))
                rings.append(ring)
            start_cap = self._add_vertex(starts[segment], joint, self._finger_shape(starts[segment], 0, root))
            end_cap = self._add_vertex(ends[segment], joint, self._finger_shape(ends[segment], 0, root))
            self._tube(rings[0], rings[1], start_cap, end_cap)
            self.joint_rings[joint] = rings[0]
            tip = end_cap
        return tip

    @staticmethod
    def _finger_shape(centre, radial_offset, finger_root):
        """Shape directions (3, 4) of a finger vertex at ``centre + radial_offset``."""
        position = centre + radial_offset
        shape = np.zeros((3, 4))
        shape[:, 0] = position                         # size: scale about the wrist
        shape[:, 1] = centre - finger_root             # finger length: stretch from the finger's root
        shape[2, 2] = finger_root[2]                   # palm width: the whole finger moves sideways
        shape[:, 3] = radial_offset                    # thickness: grow away from the bone axis
        return shape

    def _tube(self, ring_a, ring_b, cap_a, cap_b):
        # Rings turn counter-clockwise seen from the tip (back -> side), so these windings face outwards.
        for k in range(RING_SIDES):
            n = (k + 1) % RING_SIDES
            self.faces.append((ring_a[k], ring_b[n], ring_b[k]))
            self.faces.append((ring_a[k], ring_a[n], ring_b[n]))
            self.faces.append((cap_a, ring_a[n], ring_a[k]))
            self.faces.append((cap_b, ring_b[k], ring_b[n]))

    def finish(self, tip_vertex_ids) -> HandModelData:
        num_vertices = len(self.vertices)
        weights = np.zeros((num_vertices, NUM_JOINTS))
        weights[np.arange(num_vertices), self.joint_of_vertex] = 1.0
        regressor = np.zeros((NUM_JOINTS, num_vertices))
        for joint, ring in self.joint_rings.items():
            regressor[joint, ring] = 1.0 / len(ring)
        shapedirs = np.zeros((num_vertices, 3, NUM_BETAS))
        shapedirs[:, :, :4] = SHAPE_STEP * np.stack(self.shape)
        return HandModelData(
            name="builtin", side="right", v_template=np.stack(self.vertices), shapedirs=shapedirs,
            posedirs=np.zeros((num_vertices, 3, NUM_POSE_BASIS)), J_regressor=regressor, weights=weights,
            faces=np.array(self.faces, dtype=np.int64), tip_vertex_ids=tip_vertex_ids,
        )


def _mirror(right: HandModelData) -> HandModelData:
    """The left hand: reflect x, and reverse the faces' winding so they still face outwards."""
    flip = np.array([-1.0, 1.0, 1.0])
    return HandModelData(
        name=right.name, side="left", v_template=right.v_template * flip,
        shapedirs=right.shapedirs * flip[:, None], posedirs=right.posedirs, J_regressor=right.J_regressor,
        weights=right.weights, faces=right.faces[:, ::-1].copy(), tip_vertex_ids=right.tip_vertex_ids,
    )
