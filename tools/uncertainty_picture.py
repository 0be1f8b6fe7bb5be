"""Render a captured hand coloured by its uncertainty (docs/uncertainty.png), from the main job's .blend.

    .venv/bin/python tools/uncertainty_picture.py out/capture.blend docs/uncertainty.png

Opens the .blend, turns the add-on's bone colours on at the frame where the capture's unsure and
sure joints differ most, and renders the hand (Cycles, CPU) with its mesh coloured through the
skin weights: green sure, yellow at the threshold, red unsure.
"""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("blend", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--threshold", type=float, default=14.0)  # a little under the cleanup's default 16
    args = parser.parse_args()

    import bpy

    import addon_utils  # importable once bpy is

    bpy.ops.wm.open_mainfile(filepath=str(args.blend.resolve()))
    addon_utils.enable("maskhand_blender", default_set=True)
    from maskhand_blender.blender.compat import shader_nodes
    from maskhand_blender.blender.curves import HandCurves
    from maskhand_blender.ui.display import COLOUR_ATTRIBUTE

    scene = bpy.context.scene
    rigs = [obj for obj in scene.objects if obj.type == "ARMATURE" and obj.animation_data]
    best = None
    for rig in rigs:
        curves = HandCurves.of(rig)
        frames, found = curves.grid()
        _, uncertainty = curves.uncertainty_at(frames, found)
        spread = np.where(found, uncertainty.max(1) - uncertainty.min(1), -1)
        row = int(np.argmax(spread))
        if best is None or spread[row] > best[0]:
            best = (spread[row], rig, frames[row])
    _, rig, frame = best
    for other in rigs:
        for child in other.children:
            child.hide_render = other is not rig
    cleanup = scene.maskhand_cleanup
    cleanup.threshold = args.threshold
    cleanup.show_colours = True
    scene.frame_set(int(frame))

    material = bpy.data.materials.new("Uncertainty")
    nodes = shader_nodes(material).nodes
    attribute = nodes.new("ShaderNodeAttribute")
    attribute.attribute_name = COLOUR_ATTRIBUTE
    material.node_tree.links.new(attribute.outputs["Color"], nodes["Principled BSDF"].inputs["Base Color"])
    mesh_object = next(child for child in rig.children if child.type == "MESH")
    mesh_object.data.materials.clear()
    mesh_object.data.materials.append(material)

    # A three-quarter view of the hand, framed on its posed mesh.
    depsgraph = bpy.context.evaluated_depsgraph_get()
    evaluated = mesh_object.evaluated_get(depsgraph)
    points = np.array([mesh_object.matrix_world @ v.co for v in evaluated.to_mesh().vertices])
    evaluated.to_mesh_clear()
    centre, size = points.mean(0), np.ptp(points, 0).max()
    camera = bpy.data.objects.new("Picture Camera", bpy.data.cameras.new("Picture Camera"))
    scene.collection.objects.link(camera)
    direction = np.array([0.6, -1.0, 0.5])
    camera.location = centre + 2.6 * size * direction / np.linalg.norm(direction)
    look = centre - np.array(camera.location)
    camera.rotation_euler = (math.atan2(math.hypot(look[0], look[1]), -look[2]), 0.0,
                             math.atan2(look[1], look[0]) - math.pi / 2)
    camera.data.lens = 50
    scene.camera = camera
    light = bpy.data.objects.new("Picture Light", bpy.data.lights.new("Picture Light", "SUN"))
    light.data.energy = 4.0
    light.rotation_euler = camera.rotation_euler
    scene.collection.objects.link(light)
    scene.world = scene.world or bpy.data.worlds.new("World")
    shader_nodes(scene.world).nodes["Background"].inputs[0].default_value = (0.2, 0.22, 0.25, 1.0)
    scene.render.engine = "CYCLES"
    scene.cycles.device, scene.cycles.samples, scene.cycles.use_denoising = "CPU", 24, False
    scene.render.resolution_x, scene.render.resolution_y, scene.render.resolution_percentage = 480, 480, 100
    scene.render.filepath = str(args.out.resolve())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    bpy.ops.render.render(write_still=True)
    worst = max((float(b["maskhand_uncertainty"]), b.name) for b in rig.pose.bones if "maskhand_uncertainty" in b)
    print(f"wrote {args.out}: '{rig.name}' at frame {int(frame)}, threshold {args.threshold} degrees, "
          f"most unsure {worst[1]} ({worst[0]:.0f} degrees)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
