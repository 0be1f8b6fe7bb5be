"""MaskHand backend, in two parts over the shared method (``maskhand``, ``hand_model``, ``context``, ``detect``,
``metrics``, ``frame_runs``):

* ``capture``: the service the add-on runs (``python -m backend serve``, ``python -m backend capture``);
* ``training``: what a researcher runs: training, calibration, evaluation, ONNX export, and their data.

The capture never imports the training side. Runs in its own Python environment (torch, smplx, OpenCV, ONNX Runtime),
never inside Blender; the add-on talks to it as a subprocess.
"""
