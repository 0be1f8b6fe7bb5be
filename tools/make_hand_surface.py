"""Generate the built-in hand's skin: backend/hand_model/builtin_surface.npz.

    .venv/bin/python tools/make_hand_surface.py

The surface is the zero level of a signed distance field built from the built-in skeleton
(backend.hand_model.builtin): a round cone per finger segment, narrower mid-shaft than at the
joints, a rounded palm slab, a thenar pad carried by the thumb's metacarpal and a short wrist,
blended with smooth minima so the fingers grow out of the palm (a web at each finger's root)
and stay apart from each other.
Marching cubes (PyMCubes) extracts it on a 1 mm grid, fine enough to keep the fingers
apart; Blender's Decimate modifier (quadric edge collapse) brings it down to a mesh an
animator can skin and a renderer can subdivide. The file holds only the geometry (right
hand, metres, MANO's model frame); builtin.py derives skinning, shape directions and the
joint regressor from it and the skeleton, and snaps the fingertip vertices onto the tips.

Deterministic: tests/test_builtin_hand.py regenerates it and compares.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

GRID_M = 0.001          # marching cubes spacing
TARGET_VERTICES = 3000
FINGER_BLEND_M = 0.005  # smooth-minimum width where a finger meets the palm (the web)
THUMB_BLEND_M = 0.014   # wider for the thumb: the thenar web
WRIST_BLEND_M = 0.015
PALM_HALF_THICKNESS_M = 0.0145
PALM_EDGE_RADIUS_M = 0.012
MID_SHAFT_NARROWING = 0.9  # a phalanx is narrower between its joints than at them
WRIST_LENGTH_M = 0.035     # beyond the wrist joint, towards the forearm (+x), cut flat
WRIST_HALF_AXES_M = (0.0185, 0.026)  # thickness (y) and width (z)


def round_cone(points: np.ndarray, a, b, radius_a: float, radius_b: float) -> np.ndarray:
    """Signed distance to the hull of spheres (a, radius_a) and (b, radius_b); points (..., 3).

    Inigo Quilez's exact round-cone distance."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    ba = b - a
    l2 = ba @ ba
    rr = radius_a - radius_b
    a2 = l2 - rr * rr
    pa = points - a
    y = pa @ ba
    z = y - l2
    x2 = ((pa * l2 - y[..., None] * ba) ** 2).sum(-1)
    y2, z2 = y * y * l2, z * z * l2
    k = np.sign(rr) * rr * rr * x2
    beyond_b = np.sign(z) * a2 * z2 > k
    before_a = np.sign(y) * a2 * y2 < k
    side = (np.sqrt(np.maximum(x2 * a2 / l2, 0.0)) + y * rr) / l2 - radius_a
    return np.where(beyond_b, np.sqrt(x2 + z2) / l2 - radius_b,
                    np.where(before_a, np.sqrt(x2 + y2) / l2 - radius_a, side))


def polygon_distance(points_2d: np.ndarray, outline: np.ndarray) -> np.ndarray:
    """Signed distance (negative inside) to a closed polygon; points (..., 2). Quilez's formula."""
    distance = ((points_2d - outline[0]) ** 2).sum(-1)
    sign = np.ones(points_2d.shape[:-1])
    for i in range(len(outline)):
        vi, vj = outline[i], outline[i - 1]
        edge, w = vj - vi, points_2d - vi
        nearest = w - edge * np.clip((w @ edge) / (edge @ edge), 0.0, 1.0)[..., None]
        distance = np.minimum(distance, (nearest ** 2).sum(-1))
        above, below = points_2d[..., 1] >= vi[1], points_2d[..., 1] < vj[1]
        turn = edge[0] * w[..., 1] > edge[1] * w[..., 0]
        crossing = (above & below & turn) | (~above & ~below & ~turn)
        sign = np.where(crossing, -sign, sign)
    return sign * np.sqrt(distance)


def smooth_min(a: np.ndarray, b: np.ndarray, width: float) -> np.ndarray:
    """Polynomial smooth minimum: a union that fills the crease within ``width``."""
    h = np.maximum(width - np.abs(a - b), 0.0) / width
    return np.minimum(a, b) - h * h * width / 4


def hand_distance(points: np.ndarray) -> np.ndarray:
    """Signed distance of the right hand at rest (negative inside); points (..., 3), metres."""
    from backend.hand_model.builtin import PALM_OUTLINE, finger_stations

    x, y, z = points[..., 0], points[..., 1], points[..., 2]
    # The palm: its outline seen from the back (x, z), a slab of rounded edges in y.
    inner = polygon_distance(np.stack([x, z], -1), np.asarray(PALM_OUTLINE)) + PALM_EDGE_RADIUS_M
    thickness = np.abs(y) - (PALM_HALF_THICKNESS_M - PALM_EDGE_RADIUS_M)
    palm = (np.sqrt(np.maximum(inner, 0) ** 2 + np.maximum(thickness, 0) ** 2)
            + np.minimum(np.maximum(inner, thickness), 0) - PALM_EDGE_RADIUS_M)
    # The wrist: an elliptic cylinder along +x, cut flat towards the forearm.
    half_y, half_z = WRIST_HALF_AXES_M
    ellipse = (np.sqrt((y / half_y) ** 2 + (z / half_z) ** 2) - 1) * min(half_y, half_z)
    wrist = np.maximum(ellipse, np.maximum(x - WRIST_LENGTH_M, -x - 0.02))
    palm = smooth_min(palm, wrist, WRIST_BLEND_M)
    hand = palm
    for finger, stations in finger_stations().items():
        tube = np.full(x.shape, np.inf)
        for (start, radius_start), (end, radius_end) in zip(stations[:-1], stations[1:]):
            middle = (start + end) / 2
            radius_middle = MID_SHAFT_NARROWING * (radius_start + radius_end) / 2
            tube = np.minimum(tube, round_cone(points, start, middle, radius_start, radius_middle))
            tube = np.minimum(tube, round_cone(points, middle, end, radius_middle, radius_end))
        # Each finger blends into the palm alone: fingers side by side stay apart.
        hand = np.minimum(hand, smooth_min(palm, tube, THUMB_BLEND_M if finger == "thumb" else FINGER_BLEND_M))
    return hand


def marching_cubes() -> tuple[np.ndarray, np.ndarray]:
    """(vertices (V, 3) metres, faces (F, 3)) of the zero level, faces wound outwards."""
    import mcubes

    low, high = np.array([-0.215, -0.065, -0.075]), np.array([0.045, 0.035, 0.115])
    axes = [np.arange(lo, hi + GRID_M / 2, GRID_M) for lo, hi in zip(low, high)]
    grid = np.stack(np.meshgrid(*axes, indexing="ij"), -1)
    distance = np.stack([hand_distance(grid[i]) for i in range(len(axes[0]))])  # slab by slab: memory
    if (distance[[0, -1]] <= 0).any() or (distance[:, [0, -1]] <= 0).any() or (distance[:, :, [0, -1]] <= 0).any():
        raise RuntimeError("the hand reaches the edge of the grid: widen its bounds")
    vertices, faces = mcubes.marching_cubes(-distance, 0.0)  # the inside positive: mcubes' convention
    vertices = low + vertices * GRID_M
    faces = faces.astype(np.int64)
    if _signed_volume(vertices, faces) < 0:
        faces = faces[:, ::-1]
    return vertices, faces


def decimate(vertices: np.ndarray, faces: np.ndarray, target_vertices: int) -> tuple[np.ndarray, np.ndarray]:
    """Blender's quadric edge collapse down to about ``target_vertices``, triangles kept."""
    import bpy
    import bmesh  # importable once bpy is

    bpy.ops.wm.read_factory_settings(use_empty=True)
    mesh = bpy.data.meshes.new("hand")
    mesh.from_pydata(vertices.tolist(), [], faces.tolist())
    editable = bmesh.new()
    editable.from_mesh(mesh)
    # Marching cubes leaves zero-length edges where the surface passes through a grid point.
    bmesh.ops.remove_doubles(editable, verts=editable.verts, dist=1e-7)
    bmesh.ops.dissolve_degenerate(editable, edges=editable.edges, dist=1e-7)
    bmesh.ops.triangulate(editable, faces=editable.faces)
    editable.to_mesh(mesh)
    editable.free()
    obj = bpy.data.objects.new("hand", mesh)
    bpy.context.scene.collection.objects.link(obj)
    modifier = obj.modifiers.new("Decimate", "DECIMATE")
    modifier.decimate_type, modifier.ratio, modifier.use_collapse_triangulate = "COLLAPSE", target_vertices / len(vertices), True
    evaluated = obj.evaluated_get(bpy.context.evaluated_depsgraph_get()).to_mesh()
    out_vertices = np.empty(len(evaluated.vertices) * 3)
    evaluated.vertices.foreach_get("co", out_vertices)
    evaluated.calc_loop_triangles()
    out_faces = np.empty(len(evaluated.loop_triangles) * 3, dtype=np.int64)
    evaluated.loop_triangles.foreach_get("vertices", out_faces)
    return out_vertices.reshape(-1, 3), out_faces.reshape(-1, 3)


def _signed_volume(vertices: np.ndarray, faces: np.ndarray) -> float:
    a, b, c = (vertices[faces[:, k]] for k in range(3))
    return float(np.einsum("ij,ij->i", a, np.cross(b, c)).sum() / 6)


def hand_surface() -> dict:
    vertices, faces = decimate(*marching_cubes(), TARGET_VERTICES)
    return {"vertices": vertices.astype(np.float32), "faces": faces.astype(np.int32)}


def main(argv: list[str] | None = None) -> int:
    from backend.hand_model.builtin import SURFACE_FILE

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=SURFACE_FILE, help="where to write (default: %(default)s)")
    out = parser.parse_args(argv).out
    surface = hand_surface()
    with open(out, "wb") as file:
        np.savez_compressed(file, **surface)
    print(f"wrote {out}: {len(surface['vertices'])} vertices, {len(surface['faces'])} faces, "
          f"{out.stat().st_size // 1024} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
