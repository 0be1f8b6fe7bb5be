"""Batched forward kinematics shared by every hand model (MANO and our built-in hand).

A hand model is data (``HandModelData``: template mesh, shape and pose blend shapes,
joint regressor, skinning weights, fingertip vertices); ``HandModel`` turns a pose and
shape into joints, 21 keypoints and vertices. The maths is MANO's linear blend skinning,
built from smplx's own ``lbs`` primitives so that it agrees with smplx's MANO layer.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F
from smplx.lbs import batch_rodrigues, blend_shapes, transform_mat

from .layout import NUM_JOINTS, PARENTS, SIDES, mano_to_openpose

NUM_POSE_BASIS = (NUM_JOINTS - 1) * 9  # pose-corrective features: 15 rotation matrices minus identity


@dataclass(frozen=True)
class HandModelData:
    """One hand side's model, in metres, for the flat rest hand (zero pose, zero betas).

    V vertices, F faces, S shape components.
    """

    name: str                 # "mano" or "builtin"
    side: str                 # "right" or "left"
    v_template: np.ndarray    # (V, 3)
    shapedirs: np.ndarray     # (V, 3, S) shape blend shapes, per unit of beta
    posedirs: np.ndarray      # (V, 3, 135) pose-corrective blend shapes (zeros where a model has none)
    J_regressor: np.ndarray   # (16, V) dense; each row sums to 1
    weights: np.ndarray       # (V, 16) skinning weights; each row sums to 1
    faces: np.ndarray         # (F, 3) vertex indices, counter-clockwise seen from outside
    tip_vertex_ids: tuple     # 5 vertex ids, thumb, index, middle, ring, pinky
    hands_mean: np.ndarray | None = None  # (45,) MANO's mean finger pose, to convert datasets that add it

    def __post_init__(self):
        if self.side not in SIDES:
            raise ValueError(f"hand side must be one of {SIDES}, not {self.side!r}")
        num_vertices = self.v_template.shape[0]
        expected = {
            "v_template": (num_vertices, 3),
            "shapedirs": (num_vertices, 3, self.shapedirs.shape[-1]),
            "posedirs": (num_vertices, 3, NUM_POSE_BASIS),
            "J_regressor": (NUM_JOINTS, num_vertices),
            "weights": (num_vertices, NUM_JOINTS),
        }
        for field, shape in expected.items():
            actual = getattr(self, field).shape
            if actual != shape:
                raise ValueError(f"{self.name} {self.side} hand: {field} has shape {actual}, expected {shape}")
        if len(self.tip_vertex_ids) != 5:
            raise ValueError(f"{self.name} {self.side} hand: expected 5 fingertip vertices, got {self.tip_vertex_ids}")


@dataclass
class HandOutput:
    joints: torch.Tensor            # (B, 16, 3) posed joints, MANO order
    keypoints: torch.Tensor         # (B, 21, 3) joints + fingertips, OpenPose / MediaPipe order
    vertices: torch.Tensor | None   # (B, V, 3), or None when not asked for


class HandModel(torch.nn.Module):
    """Forward kinematics of one hand side. ``model(pose, betas)`` -> ``HandOutput``."""

    def __init__(self, data: HandModelData, dtype: torch.dtype = torch.float32):
        super().__init__()
        self.name = data.name
        self.side = data.side
        self.num_betas = data.shapedirs.shape[-1]

        def buffer(name, array, buffer_dtype=dtype):
            self.register_buffer(name, torch.as_tensor(np.asarray(array), dtype=buffer_dtype), persistent=False)

        buffer("v_template", data.v_template)                                     # (V, 3)
        buffer("shapedirs", data.shapedirs)                                       # (V, 3, S)
        buffer("posedirs", data.posedirs.reshape(-1, NUM_POSE_BASIS).T)           # (135, V*3), as smplx lays it out
        # The joint regressor (16, V) applied once, in float64: rest joints need no pass over the mesh.
        buffer("joint_template", data.J_regressor @ data.v_template)              # (16, 3)
        buffer("joint_shapedirs", np.einsum("jv,vcs->jcs", data.J_regressor, data.shapedirs))  # (16, 3, S)
        buffer("lbs_weights", data.weights)                                       # (V, 16)
        buffer("faces", data.faces, torch.long)                                   # (F, 3)
        buffer("tip_vertex_ids", data.tip_vertex_ids, torch.long)                 # (5,)

    @property
    def num_vertices(self) -> int:
        return self.v_template.shape[0]

    def forward(self, pose: torch.Tensor | None = None, betas: torch.Tensor | None = None,
                with_vertices: bool = True, rotations: torch.Tensor | None = None) -> HandOutput:
        """pose: (B, 16, 3) local axis-angle (global orientation first), or ``rotations``: the
        same as matrices (B, 16, 3, 3); betas: (B, S) or None.

        ``with_vertices=False`` skins only the 5 fingertip vertices: the cheap path for
        training losses that need keypoints alone.
        """
        if rotations is None:
            rotations = batch_rodrigues(pose.reshape(-1, 3)).view(pose.shape[0], NUM_JOINTS, 3, 3)
        if betas is None:
            betas = rotations.new_zeros(rotations.shape[0], self.num_betas)
        selected = slice(None) if with_vertices else self.tip_vertex_ids
        v_shaped, rest_joints = self._shaped(betas, selected)                          # (B, n, 3), (B, 16, 3)
        return self._posed(rotations, rest_joints, v_shaped, selected, with_vertices)

    def keypoints_at_shape(self, betas: torch.Tensor):
        """For fitting loops over the pose alone: a function pose (B, 16, 3) -> keypoints (B, 21, 3) of
        hands with shape ``betas`` (B, S), which is blended once here instead of at every call."""
        tips, rest_joints = self._shaped(betas, self.tip_vertex_ids)

        def keypoints(pose: torch.Tensor) -> torch.Tensor:
            rotations = batch_rodrigues(pose.reshape(-1, 3)).view(pose.shape[0], NUM_JOINTS, 3, 3)
            return self._posed(rotations, rest_joints, tips, self.tip_vertex_ids, False).keypoints
        return keypoints

    def _shaped(self, betas: torch.Tensor, selected=slice(None)) -> tuple[torch.Tensor, torch.Tensor]:
        """The ``selected`` rest vertices (B, n, 3) and the rest joints (B, 16, 3) of shape ``betas`` (B, S)."""
        v_shaped = self.v_template[selected] + blend_shapes(betas, self.shapedirs[selected])
        return v_shaped, self.rest_joints(betas)

    def _posed(self, rotations, rest_joints, shaped, selected, with_vertices: bool) -> HandOutput:
        """Pose the ``selected`` shaped vertices (B, n, 3) and the joints by ``rotations`` (B, 16, 3, 3)."""
        batch = rotations.shape[0]
        joints, transforms = rigid_transforms_by_depth(rotations, rest_joints, PARENTS)  # (B,16,3), (B,16,4,4)
        identity = torch.eye(3, dtype=rotations.dtype, device=rotations.device)
        pose_feature = (rotations[:, 1:] - identity).reshape(batch, NUM_POSE_BASIS)    # (B, 135)
        posedirs = self.posedirs.view(NUM_POSE_BASIS, self.num_vertices, 3)[:, selected]
        v_posed = shaped + torch.einsum("bp,pvc->bvc", pose_feature, posedirs)
        vertex_transforms = torch.einsum("vj,bjxy->bvxy", self.lbs_weights[selected], transforms)  # (B, n, 4, 4)
        vertices = (vertex_transforms[..., :3, :3] @ v_posed.unsqueeze(-1)).squeeze(-1) + vertex_transforms[..., :3, 3]

        tips = vertices[:, self.tip_vertex_ids] if with_vertices else vertices          # (B, 5, 3)
        keypoints = mano_to_openpose(torch.cat([joints, tips], dim=1))
        return HandOutput(joints=joints, keypoints=keypoints, vertices=vertices if with_vertices else None)

    def rest_joints(self, betas: torch.Tensor | None = None) -> torch.Tensor:
        """(B, 16, 3) joint positions of the flat rest hand (B = 1 when betas is None)."""
        betas = self.v_template.new_zeros(1, self.num_betas) if betas is None else betas
        return self.joint_template + blend_shapes(betas, self.joint_shapedirs)


def depth_levels(parents: tuple) -> tuple:
    """The joints of a kinematic tree grouped by depth, root first: ((0,), (1, 4, 7, 10, 13), ...) for a hand."""
    depth = [0] * len(parents)
    for joint in range(1, len(parents)):
        depth[joint] = depth[parents[joint]] + 1
    return tuple(tuple(j for j in range(len(parents)) if depth[j] == level) for level in range(max(depth) + 1))


@lru_cache(maxsize=None)
def _chain_plan(parents: tuple) -> tuple:
    """For ``rigid_transforms_by_depth``, worked out once per tree: per depth level below the root, its joints and
    where their parents sit among the joints already chained; then where each joint ends up in that order."""
    levels = depth_levels(parents)
    order, steps = list(levels[0]), []
    for level in levels[1:]:
        steps.append((list(level), [order.index(parents[joint]) for joint in level]))
        order += level
    return list(levels[0]), steps, [order.index(joint) for joint in range(len(parents))]


def rigid_transforms_by_depth(rotations: torch.Tensor, rest_joints: torch.Tensor, parents: tuple):
    """smplx.lbs.batch_rigid_transform, composing the chain one depth level at a time.

    smplx multiplies the 15 child transforms onto their parents' one joint after another; a hand's
    chains are only three deep, so three batched products do the same work. It matters where forward
    kinematics runs in a loop (backend.capture.refine: 100 steps per capture, each forward and backward).
    rotations (B, J, 3, 3), rest_joints (B, J, 3) -> posed joints (B, J, 3), transforms relative to the rest
    pose (B, J, 4, 4), exactly as smplx returns them."""
    roots, steps, joint_order = _chain_plan(parents)
    joints = rest_joints.unsqueeze(-1)                                                     # (B, J, 3, 1)
    offsets = torch.cat([joints[:, :1], joints[:, 1:] - joints[:, list(parents[1:])]], 1)
    local = transform_mat(rotations.reshape(-1, 3, 3), offsets.reshape(-1, 3, 1)).reshape(-1, len(parents), 4, 4)
    chained = local[:, roots]
    for level, parent_rows in steps:
        chained = torch.cat([chained, chained[:, parent_rows] @ local[:, level]], 1)
    transforms = chained[:, joint_order]                                                   # joint order again
    homogeneous = F.pad(joints, [0, 0, 0, 1])
    return transforms[:, :, :3, 3], transforms - F.pad(transforms @ homogeneous, [3, 0, 0, 0, 0, 0, 0, 0])
