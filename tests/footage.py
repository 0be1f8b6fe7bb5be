"""Test footage the tests write themselves (OpenCV's mp4v encoder, or FFV1 for lossless)."""
import cv2


def write_video(path, frames, fps=30.0, codec="mp4v"):
    """BGR frames (same size) -> a video at ``path`` (``codec`` "FFV1" in an .avi: lossless); returns the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*codec), fps, (width, height))
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path
