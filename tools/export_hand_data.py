"""Write the built-in hand's rest data for the Blender add-on: maskhand_blender/data/builtin_hand.npz.

    .venv/bin/python tools/export_hand_data.py

The add-on never imports the backend (no torch in Blender), but it builds the same hand as an
armature and retargets from the same rest pose; this file carries both across, generated from
``backend.hand_model`` so there is one source. tests/test_retarget.py checks it is current.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
OUT = REPO / "maskhand_blender" / "data" / "builtin_hand.npz"


def hand_data_arrays() -> dict:
    import torch

    from backend.hand_model import JOINT_NAMES, PARENTS, SIDES, builtin_hand_data, load_hand_model, openpose_to_mano
    from backend.hand_model.layout import BONE_END_POINT

    arrays = {"joint_names": np.array(JOINT_NAMES), "parents": np.array(PARENTS, np.int64),
              "bone_end_point": np.array(BONE_END_POINT, np.int64)}
    for side in SIDES:
        data = builtin_hand_data(side)
        with torch.no_grad():
            keypoints = load_hand_model(side)(torch.zeros(1, 16, 3)).keypoints[0].numpy()
        arrays[f"{side}/rest_points"] = openpose_to_mano(keypoints).astype(np.float32)   # (21, 3) MANO order
        arrays[f"{side}/vertices"] = data.v_template.astype(np.float32)                 # (V, 3)
        arrays[f"{side}/faces"] = data.faces.astype(np.int32)                           # (F, 3)
        arrays[f"{side}/weights"] = data.weights.astype(np.float32)                     # (V, 16)
    return arrays


def main() -> int:
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with open(OUT, "wb") as file:
        np.savez_compressed(file, **hand_data_arrays())
    print(f"wrote {OUT} ({OUT.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
