"""Test footage the tests write themselves (OpenCV's mp4v encoder)."""
import cv2


def write_video(path, frames, fps=30.0):
    """BGR frames (same size) -> an mp4 at ``path``; returns the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path
