"""Our own labels of every visible hand in ../shared/data/hamer_example (looked at by eye).

Per photo, each hand: the side it is (the person's own left or right, not the image's) and a
point near its centre, in the photo's pixels. A found hand belongs to the labelled hand whose
point is nearest its keypoints' centre, within ``MATCH_HAND_SIZES`` of its size; a found hand
near no labelled one is a non-hand.
"""
from __future__ import annotations

import numpy as np

MATCH_HAND_SIZES = 0.75

PHOTO_HANDS = {
    # The woman (facing the camera) makes an OK sign with her right hand; her left rests on her knee. The girl
    # (back to the camera) gives a thumbs-up with her right hand in front and her left below it.
    "test1.jpg": {"ok sign": ("right", (318, 240)), "front thumbs-up": ("right", (450, 365)),
                  "lower thumbs-up": ("left", (420, 440)), "hand on knee": ("left", (168, 513))},
    # The trumpeter's right hand presses the valves; his left holds the casing, lower right.
    "test2.jpg": {"valve hand": ("right", (300, 132)), "holding hand": ("left", (384, 336))},
    # The man in yellow, facing the camera: his right hand comes from the sleeve on the image's left, his left
    # from the sleeve on the right; the fingers cross in front of him.
    "test3.jpg": {"right hand": ("right", (470, 410)), "left hand": ("left", (475, 290))},
    # Gloved gardener, seen from behind: the left hand holds the branch, the right the secateurs.
    "test4.jpg": {"branch hand": ("left", (480, 448)), "secateurs hand": ("right", (896, 896))},
    # The woman covers her face: her right hand on the image's left, her left on the right.
    "test5.jpg": {"right hand": ("right", (480, 670)), "left hand": ("left", (710, 660))},
}


def labelled_hand(photo: str, keypoints: np.ndarray) -> str | None:
    """The label of the hand that keypoints (21, 2) found in ``photo`` belong to, or None (a non-hand)."""
    centre, size = keypoints.mean(0), float(np.ptp(keypoints, 0).max())
    label, (side, point) = min(PHOTO_HANDS[photo].items(), key=lambda item: np.linalg.norm(centre - item[1][1]))
    return label if np.linalg.norm(centre - np.array(point)) <= MATCH_HAND_SIZES * size else None
