"""Round trip: render the built-in hand through known gestures, capture it with the product, compare with the truth.

    .venv/bin/python bench/roundtrip/run.py [--frames 36]

For each set-up (lighting x background) the built-in hand, skinned and skin-coloured, goes
through a sequence of gestures and grasps, rendered by Blender (Cycles, CPU, 320x240:
tools/sample_clip.py). The clip then goes through the whole product: the headless main job
(python -m maskhand_blender capture: Blender, the add-on, the backend subprocess, keys on the
built-in hand). Measured against the rendered truth, on the frames where both MaskHand and
MediaPipe found the hand:

* mean joint angle error (degrees) of the keyed rig: the local rotation Blender plays for each
  finger bone, turned back into the hand model's frame, against the true local rotation;
* PA-MPJPE (mm) of the 21 keypoints, MaskHand's against MediaPipe's own 3D world landmarks on
  the same frames (MediaPipe's hand landmarker is the baseline).

Figures go to bench/results/roundtrip.json.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
RESULTS = REPO / "bench" / "results" / "roundtrip.json"
SETUPS = (("key", "plain", "open,fist,point,peace,open"),
          ("soft", "textured", "open,pinch,ok,claw,open"),
          ("side", "plain", "open,cylinder,sphere,fist,open"))


def pa_mpjpe_mm(predicted: np.ndarray, truth: np.ndarray) -> np.ndarray:
    from backend.metrics import pa_error_mm

    return pa_error_mm(predicted, truth).mean(1)


def mediapipe_world(clip: Path) -> dict:
    """{frame: (21, 3) world landmarks of the most confident hand}: MediaPipe's own 3D estimate."""
    import cv2
    import mediapipe as mp

    capture, found = cv2.VideoCapture(str(clip)), {}
    with mp.solutions.hands.Hands(static_image_mode=False, max_num_hands=1, min_detection_confidence=0.3) as hands:
        frame = 0
        while (image := capture.read()[1]) is not None:
            result = hands.process(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
            if result.multi_hand_world_landmarks:
                found[frame] = np.array([[p.x, p.y, p.z] for p in result.multi_hand_world_landmarks[0].landmark])
            frame += 1
    return found


def keyed_local_rotations(blend: Path) -> dict:
    """({side: (frames (N,), rotations (N, 16, 3, 3) in the hand model's frame)} that Blender plays,
    the capture's result file)."""
    import bpy

    import addon_utils  # importable once bpy is

    bpy.ops.wm.open_mainfile(filepath=str(blend))
    addon_utils.enable("maskhand_blender", default_set=True)
    from maskhand_blender.blender.curves import HandCurves
    from maskhand_blender.core.hand_data import joint_names
    from maskhand_blender.core.rotations import quaternion_to_matrix

    scene, out = bpy.context.scene, {}
    for rig in (obj for obj in scene.objects if obj.type == "ARMATURE" and obj.animation_data):
        if not rig.name.endswith(("Right", "Left")):
            continue  # a further track's hand ("MaskHand Right 2"): the bench films one hand
        side = "right" if rig.name.endswith("Right") else "left"
        curves = HandCurves.of(rig)
        frames, found = curves.grid()
        frames = frames[found]
        rotations = np.empty((len(frames), 16, 3, 3))
        for n, frame in enumerate(frames):
            scene.frame_set(int(round(frame)))
            for joint, name in enumerate(joint_names()):
                bone = rig.pose.bones[f"{name}.{'R' if side == 'right' else 'L'}"]
                rest = np.array(bone.bone.matrix_local.to_3x3())
                basis = quaternion_to_matrix(np.array(bone.rotation_quaternion))
                # The built-in rig's armature space is the hand model's frame: local = rest basis rest^T.
                rotations[n, joint] = rest @ basis @ rest.T
        out[side] = (frames - scene.frame_start, rotations)
    return out, scene.maskhand.last_result


def angle_deg(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    cosine = (np.trace(np.swapaxes(a, -1, -2) @ b, axis1=-2, axis2=-1) - 1) / 2
    return np.degrees(np.arccos(np.clip(cosine, -1, 1)))


def run_setup(folder: Path, lighting: str, background: str, gestures: str, frames: int) -> dict:
    from backend.capture.result import read_result
    from maskhand_blender.core.rotations import axis_angle_to_matrix

    clip = folder / f"{lighting}_{background}.mp4"
    subprocess.run([sys.executable, str(REPO / "tools" / "sample_clip.py"), str(clip), "--frames", str(frames),
                    "--lighting", lighting, "--background", background, "--gestures", gestures],
                   check=True, capture_output=True)
    truth = np.load(clip.with_suffix(".truth.npz"))
    blend = folder / f"{lighting}_{background}.blend"
    subprocess.run([sys.executable, "-m", "maskhand_blender", "capture", str(clip), "-o", str(blend), "--hands", "right"],
                   check=True, capture_output=True, cwd=REPO)
    keyed_frames, keyed, result_path = keyed_local_rotations_in_subprocess(blend)
    result = read_result(result_path)["right"]
    ours = {int(f): result["joints3d"][row] for row, f in enumerate(result["frames"]) if result["valid"][row]}
    theirs = mediapipe_world(clip)
    both = sorted(set(ours) & set(theirs))
    keypoints = truth["keypoints3d"]
    ours_mm = pa_mpjpe_mm(np.stack([ours[f] for f in both]), keypoints[both])
    theirs_mm = pa_mpjpe_mm(np.stack([theirs[f] for f in both]), keypoints[both])
    rows = [i for i, f in enumerate(keyed_frames) if int(round(f)) in both]
    true_local = axis_angle_to_matrix(truth["pose"][[int(round(keyed_frames[i])) for i in rows]])
    angles = angle_deg(keyed[rows][:, 1:], true_local[:, 1:])
    # What the rig plays should be what the capture said (the retarget is exact on the built-in hand).
    row_of = {int(f): row for row, f in enumerate(result["frames"])}
    captured = axis_angle_to_matrix(np.stack([result["hand_pose"][row_of[int(round(keyed_frames[i]))]] for i in rows]))
    retarget_deg = angle_deg(keyed[rows][:, 1:], captured)
    return {"lighting": lighting, "background": background, "gestures": gestures, "frames": frames,
            "found_by_maskhand": len(ours), "found_by_mediapipe": len(theirs), "compared_frames": len(both),
            "maskhand_pa_mpjpe_mm": float(ours_mm.mean()), "mediapipe_pa_mpjpe_mm": float(theirs_mm.mean()),
            "keyed_joint_angle_error_deg": float(angles.mean()), "keyed_vs_captured_deg": float(retarget_deg.max())}


def keyed_local_rotations_in_subprocess(blend: Path):
    """Blender's state is per process: read the keyed rig in a fresh one."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "keyed.npz"
        subprocess.run([sys.executable, __file__, "--read-keyed", str(blend), str(out)], check=True,
                       capture_output=True, cwd=REPO)
        data = np.load(out)
        return data["frames"], data["rotations"], str(data["result"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=36)
    parser.add_argument("--read-keyed", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.read_keyed:
        keyed, result = keyed_local_rotations(args.read_keyed[0])
        frames, rotations = keyed["right"]
        np.savez(args.read_keyed[1], frames=frames, rotations=rotations, result=np.array(result))
        return 0
    figures = []
    with tempfile.TemporaryDirectory() as folder:
        for lighting, background, gestures in SETUPS:
            figures.append(run_setup(Path(folder), lighting, background, gestures, args.frames))
            f = figures[-1]
            print(f"{lighting:5s} {background:8s} {gestures:32s} found {f['found_by_maskhand']}/{f['frames']} "
                  f"(MediaPipe {f['found_by_mediapipe']}); PA-MPJPE MaskHand {f['maskhand_pa_mpjpe_mm']:.1f} mm, "
                  f"MediaPipe {f['mediapipe_pa_mpjpe_mm']:.1f} mm; keyed joint angle error "
                  f"{f['keyed_joint_angle_error_deg']:.1f} deg", flush=True)
    total = lambda key: float(np.average([f[key] for f in figures], weights=[f["compared_frames"] for f in figures]))  # noqa: E731
    summary = {"maskhand_pa_mpjpe_mm": total("maskhand_pa_mpjpe_mm"), "mediapipe_pa_mpjpe_mm": total("mediapipe_pa_mpjpe_mm"),
               "keyed_joint_angle_error_deg": total("keyed_joint_angle_error_deg"),
               "compared_frames": int(sum(f["compared_frames"] for f in figures))}
    summary["maskhand_below_mediapipe"] = summary["maskhand_pa_mpjpe_mm"] < summary["mediapipe_pa_mpjpe_mm"]
    print(f"all: PA-MPJPE MaskHand {summary['maskhand_pa_mpjpe_mm']:.1f} mm vs MediaPipe "
          f"{summary['mediapipe_pa_mpjpe_mm']:.1f} mm over {summary['compared_frames']} frames; keyed joint angle "
          f"error {summary['keyed_joint_angle_error_deg']:.1f} deg")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"setups": figures, "all": summary}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
