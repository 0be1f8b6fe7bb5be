"""MaskHand backend: the hand model, the MaskHand method and the capture service.

Runs in its own Python environment (torch, smplx, OpenCV, MediaPipe, ONNX Runtime),
never inside Blender; the add-on talks to it as a subprocess.
"""
