"""What a researcher runs over the shared method: training (``train``, ``train_full`` over ``stages``), the
uncertainty's calibration, evaluation on synthetic and real footage, ONNX export, and the training data.
The capture service never imports this package."""
