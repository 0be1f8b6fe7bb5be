"""A sample clip the project makes itself: the built-in hand, skinned, lit and rendered by Blender.

    .venv/bin/python tools/sample_clip.py OUT.mp4 [--frames 48] [--width 640 --height 480]

The right hand turns a little while it goes through open -> fist -> point -> peace -> open.
Beside the video it writes OUT.truth.npz: the pose per frame (MANO convention), the 3D
keypoints in the camera frame and their projections, so tests and demos have ground truth.
Real MediaPipe finds this hand (a smooth, skin-coloured hand: backend/hand_model/builtin.py), which is
what makes the clip useful for end-to-end tests without any downloaded footage.

Needs the project environment (bpy + torch); runs Cycles on the CPU, about 1.4 s a frame at 640x480.
"""
from __future__ import annotations

import argparse
import math
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

LENS_MM, SENSOR_MM = 35.0, 36.0
DEPTH_M = 0.45
# The palm is turned this far from facing the camera (about the camera's vertical): seen face-on, the curled
# fingers of "point" and "fist" foreshorten to stubs and MediaPipe read the point as a fist (flexion error
# at the point frame 40 deg face-on, 12 deg turned; over the clip 15.4 -> 13.7 deg, 43 -> 48 of 48 frames found).
VIEW_YAW_DEG = -35.0
# Keyframe gestures as flexion (degrees) of MCP, PIP, DIP for index, middle, ring, pinky, and thumb flexion.
GESTURES = {
    "open": ((0, 0, 0), (0, 0, 0), (0, 0, 0), (0, 0, 0), 0),
    "fist": ((80, 95, 60), (85, 95, 60), (85, 95, 60), (85, 95, 60), 45),
    "point": ((0, 0, 0), (85, 95, 60), (85, 95, 60), (85, 95, 60), 40),
    "peace": ((0, 0, 0), (0, 0, 0), (85, 95, 60), (85, 95, 60), 40),
    "pinch": ((45, 55, 35), (10, 10, 5), (10, 10, 5), (10, 10, 5), 50),
    "ok": ((50, 70, 40), (5, 5, 0), (5, 5, 0), (5, 5, 0), 50),
    "claw": ((0, 80, 60), (0, 80, 60), (0, 80, 60), (0, 80, 60), 20),
    "cylinder": ((45, 60, 30), (50, 60, 30), (50, 60, 30), (50, 60, 30), 30),
    "sphere": ((30, 40, 25), (30, 40, 25), (30, 40, 25), (30, 40, 25), 25),
}
SEQUENCE = ("open", "fist", "point", "peace", "open")
LIGHTING = {  # (sun strength, sun rotation, world strength): the default key light, a soft one, a raking side light
    "key": (3.0, (math.pi + 0.4, 0.3, 0.0), 0.7),
    "soft": (1.2, (math.pi + 0.1, 0.0, 0.0), 1.6),
    "side": (4.0, (math.pi / 2 + 0.2, 1.3, 0.0), 0.4),
}


def gesture_pose(name: str) -> np.ndarray:
    """(16, 3) pose of a right hand (flexion about +z, the built-in hand's finger axis), no wrist rotation."""
    from backend.training.data.synthetic import THUMB_FLEX_AXIS
    from backend.hand_model import JOINT_NAMES

    *fingers, thumb = GESTURES[name]
    pose = np.zeros((16, 3))
    for finger, flexion in zip(("index", "middle", "ring", "pinky"), fingers):
        for k, degrees in enumerate(flexion, start=1):
            pose[JOINT_NAMES.index(f"{finger}{k}"), 2] = math.radians(degrees)
    for k, share in ((2, 0.8), (3, 1.0)):
        pose[JOINT_NAMES.index(f"thumb{k}")] = math.radians(thumb * share) * THUMB_FLEX_AXIS
    return pose


def clip_poses(frames: int, sequence: tuple = SEQUENCE) -> np.ndarray:
    """(frames, 16, 3): the gesture sequence, eased, the palm three-quarters to the camera, turning gently."""
    from scipy.spatial.transform import Rotation

    keys = np.stack([gesture_pose(name) for name in sequence])
    t = np.linspace(0, len(sequence) - 1, frames)
    low = np.minimum(t.astype(int), len(sequence) - 2)
    ease = (0.5 - 0.5 * np.cos(np.pi * (t - low)))[:, None, None]
    pose = (1 - ease) * keys[low] + ease * keys[low + 1]
    facing = Rotation.from_matrix(np.array([[0, 0, 1], [1, 0, 0], [0, 1, 0]], float))  # palm to the camera, fingers up
    turn = Rotation.from_euler("yx", np.stack([25 * np.sin(2 * np.pi * t / (len(sequence) - 1)),
                                               10 * np.sin(np.pi * t / 2)], 1), degrees=True)
    view = Rotation.from_euler("y", VIEW_YAW_DEG, degrees=True)
    pose[:, 0] = (view * turn * facing).as_rotvec()
    return pose


def render_clip(out: Path, frames: int = 48, width: int = 640, height: int = 480, samples: int = 8,
                sequence: tuple = SEQUENCE, lighting: str = "key", background: str = "plain") -> Path:
    """Render the clip; ``lighting`` one of LIGHTING, ``background`` "plain" or "textured" (a checker wall)."""
    import bpy
    import cv2
    import torch

    from backend.hand_model import load_hand_model
    from maskhand_blender.blender.compat import shader_nodes

    hand = load_hand_model("right")
    pose = clip_poses(frames, sequence)
    with torch.no_grad():
        output = hand(torch.as_tensor(pose, dtype=torch.float32))
    centre = output.keypoints[:, :, :].mean((0, 1)).numpy()
    offset = np.array([0.0, 0.0, DEPTH_M]) - centre                  # camera frame (OpenCV axes)
    vertices = output.vertices.numpy() + offset
    keypoints3d = output.keypoints.numpy() + offset
    focal = LENS_MM / SENSOR_MM * width
    keypoints2d = focal * keypoints3d[..., :2] / keypoints3d[..., 2:] + np.array([width / 2, height / 2])

    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    mesh = bpy.data.meshes.new("MaskHandSample")
    mesh.from_pydata(vertices[0].tolist(), [], hand.faces.numpy().tolist())
    mesh.shade_smooth()
    obj = bpy.data.objects.new("MaskHandSample", mesh)
    scene.collection.objects.link(obj)
    obj.modifiers.new("Smooth", "SUBSURF").render_levels = 2
    material = bpy.data.materials.new("Skin")
    shader_nodes(material).nodes["Principled BSDF"].inputs["Base Color"].default_value = (0.62, 0.38, 0.28, 1.0)
    mesh.materials.append(material)
    # Blender cameras look down their -Z with +Y up: turned 180 degrees about X, this one sees the
    # OpenCV camera frame (x right, y down, z forward) the vertices are in.
    camera = bpy.data.objects.new("Camera", bpy.data.cameras.new("Camera"))
    camera.data.lens, camera.data.sensor_width, camera.data.sensor_fit = LENS_MM, SENSOR_MM, "HORIZONTAL"
    camera.rotation_euler = (math.pi, 0.0, 0.0)
    scene.collection.objects.link(camera)
    scene.camera = camera
    strength, rotation, ambient = LIGHTING[lighting]
    sun = bpy.data.objects.new("Sun", bpy.data.lights.new("Sun", "SUN"))
    sun.data.energy = strength
    sun.rotation_euler = rotation
    scene.collection.objects.link(sun)
    scene.world = bpy.data.worlds.new("World")
    world = shader_nodes(scene.world).nodes["Background"]
    world.inputs[0].default_value, world.inputs[1].default_value = (0.25, 0.3, 0.35, 1.0), ambient
    if background == "textured":
        _add_checker_wall(scene, depth=DEPTH_M + 0.25)
    scene.render.engine = "CYCLES"
    scene.cycles.device, scene.cycles.samples, scene.cycles.use_denoising = "CPU", samples, False
    scene.render.resolution_x, scene.render.resolution_y, scene.render.resolution_percentage = width, height, 100

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), 24, (width, height))
    with tempfile.TemporaryDirectory() as folder:
        for frame in range(frames):
            mesh.vertices.foreach_set("co", vertices[frame].astype(np.float32).ravel())
            mesh.update()
            scene.render.filepath = str(Path(folder) / "frame.png")
            bpy.ops.render.render(write_still=True)
            writer.write(cv2.imread(scene.render.filepath))
    writer.release()
    np.savez(out.with_suffix(".truth.npz"), pose=pose, keypoints3d=keypoints3d, keypoints2d=keypoints2d,
             focal=focal, image_size=(width, height))
    return out


def _add_checker_wall(scene, depth: float) -> None:
    """A large checkered plane behind the hand, facing the camera."""
    import bpy

    from maskhand_blender.blender.compat import shader_nodes

    bpy.ops.mesh.primitive_plane_add(size=2.0, location=(0.0, 0.0, depth), rotation=(math.pi, 0.0, 0.0))
    wall = bpy.context.active_object
    material = bpy.data.materials.new("Wall")
    nodes = shader_nodes(material).nodes
    checker = nodes.new("ShaderNodeTexChecker")
    checker.inputs["Scale"].default_value = 30.0
    checker.inputs["Color1"].default_value, checker.inputs["Color2"].default_value = (0.5, 0.45, 0.3, 1), (0.15, 0.2, 0.3, 1)
    material.node_tree.links.new(checker.outputs["Color"], nodes["Principled BSDF"].inputs["Base Color"])
    wall.data.materials.append(material)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--frames", type=int, default=48)
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=480)
    parser.add_argument("--gestures", default=",".join(SEQUENCE), help=f"comma-separated, of {', '.join(GESTURES)}")
    parser.add_argument("--lighting", choices=tuple(LIGHTING), default="key")
    parser.add_argument("--background", choices=("plain", "textured"), default="plain")
    args = parser.parse_args()
    sequence = tuple(args.gestures.split(","))
    unknown = [name for name in sequence if name not in GESTURES]
    if unknown or len(sequence) < 2:
        parser.error(f"--gestures needs at least two of {', '.join(GESTURES)} (unknown: {unknown})")
    print(f"wrote {render_clip(args.out, args.frames, args.width, args.height, sequence=sequence, lighting=args.lighting, background=args.background)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
