"""Convert MediaPipe's palm detector and hand landmarker (full) from .tflite to the ONNX graphs the backend runs.

    python3.11 -m venv /tmp/convert && /tmp/convert/bin/pip install -r requirements/convert.txt
    /tmp/convert/bin/pip download --no-deps mediapipe==0.10.21 -d /tmp/convert/wheel
    /tmp/convert/bin/python tools/convert_mediapipe_models.py --wheel /tmp/convert/wheel/mediapipe-0.10.21-*.whl

The .tflite files come from the mediapipe 0.10.21 wheel (``mediapipe/modules/``; Apache-2.0): the
installed package's, or a wheel given with ``--wheel``. tf2onnx converts them (its TFLite path);
the batch axis is then made free, so crops from many frames, hands and tiles run as one batch;
and each graph is checked against the TFLite interpreter (LiteRT) on random inputs, batched,
before it is written to ``backend/detect/models/`` with a provenance file. A developer runs this
once; the graphs are committed and nothing converts or downloads at run time. The conversion
environment (TensorFlow, tf2onnx) is never part of the backend's.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
MODELS = REPO / "backend" / "detect" / "models"
# (path inside the wheel, graph name in the repo)
SOURCES = (("mediapipe/modules/palm_detection/palm_detection_full.tflite", "palm_detection_full.onnx"),
           ("mediapipe/modules/hand_landmark/hand_landmark_full.tflite", "hand_landmark_full.onnx"))
OPSET = 17
BATCH = "batch"
TOLERANCE = 1e-3  # largest difference to TFLite's outputs, relative to the output's range


def wheel_file(wheel: Path | None, inner: str) -> bytes:
    """A file of the mediapipe wheel (``inner``: its path inside the wheel), or of the installed package."""
    if wheel is not None:
        with zipfile.ZipFile(wheel) as archive:
            if inner.endswith("LICENSE"):
                inner = next(name for name in archive.namelist() if name.endswith(".dist-info/LICENSE"))
            return archive.read(inner)
    import mediapipe
    from importlib.metadata import distribution

    if inner.endswith("LICENSE"):
        return distribution("mediapipe").read_text("LICENSE").encode()
    return (Path(mediapipe.__file__).parent.parent / inner).read_bytes()


def convert(tflite: Path):
    """The ONNX model of one .tflite file, batch axis free."""
    import tf2onnx

    model, _ = tf2onnx.convert.from_tflite(str(tflite), opset=OPSET)
    return free_batch(model)


def free_batch(model):
    """Make the leading axis of inputs, outputs and every Reshape target symbolic (tf2onnx writes 1)."""
    from onnx import numpy_helper

    graph = model.graph
    for value in list(graph.input) + list(graph.output):
        value.type.tensor_type.shape.dim[0].dim_param = BATCH
    initializers = {init.name: init for init in graph.initializer}
    for node in graph.node:
        if node.op_type == "Reshape" and node.input[1] in initializers:
            target = numpy_helper.to_array(initializers[node.input[1]]).copy()
            if target[0] == 1:
                target[0] = 0  # ONNX Reshape: 0 copies the input's size on that axis, the batch
                initializers[node.input[1]].CopyFrom(numpy_helper.from_array(target, node.input[1]))
    del graph.value_info[:]  # shapes inferred with batch 1; ONNX Runtime infers them again
    return model


def check(tflite: Path, onnx_path: Path, batch: int = 3) -> float:
    """Largest relative difference between ONNX Runtime (batched) and TFLite (one by one)."""
    import onnxruntime
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(tflite))
    interpreter.allocate_tensors()
    source = interpreter.get_input_details()[0]
    outputs = sorted(interpreter.get_output_details(), key=lambda d: d["name"])
    inputs = np.random.default_rng(0).random((batch, *source["shape"][1:]), dtype=np.float32)
    expected = []
    for image in inputs:
        interpreter.set_tensor(source["index"], image[None])
        interpreter.invoke()
        expected.append([interpreter.get_tensor(d["index"])[0] for d in outputs])
    session = onnxruntime.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    got = dict(zip(names, session.run(None, {session.get_inputs()[0].name: inputs})))
    worst = 0.0
    for k, detail in enumerate(outputs):
        want = np.stack([e[k] for e in expected])
        scale = max(float(np.ptp(want)), 1e-6)
        worst = max(worst, float(np.abs(got[detail["name"]].reshape(want.shape) - want).max()) / scale)
    return worst


def main(argv: list[str] | None = None) -> int:
    import onnx
    import tf2onnx

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--wheel", type=Path, help="a mediapipe 0.10.21 wheel (default: the installed package)")
    parser.add_argument("--out", type=Path, default=MODELS)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    provenance = {"source": "mediapipe 0.10.21 wheel (Apache-2.0)", "converter": f"tf2onnx {tf2onnx.__version__}",
                  "opset": OPSET, "graphs": {}}
    with tempfile.TemporaryDirectory() as work:
        for inner, name in SOURCES:
            data = wheel_file(args.wheel, inner)
            tflite = Path(work) / Path(inner).name
            tflite.write_bytes(data)
            target = args.out / name
            onnx.save(convert(tflite), str(target))
            difference = check(tflite, target)
            if difference > TOLERANCE:
                raise SystemExit(f"{name}: differs from TFLite by {difference:.2e} of the output's range")
            provenance["graphs"][name] = {"from": inner, "tflite_sha256": hashlib.sha256(data).hexdigest(),
                                          "onnx_sha256": hashlib.sha256(target.read_bytes()).hexdigest(),
                                          "max_difference_to_tflite": float(f"{difference:.2e}")}
            print(f"{name}: {target.stat().st_size / 1e6:.1f} MB, within {difference:.1e} of TFLite (batched)")
    (args.out / "LICENSE").write_bytes(wheel_file(args.wheel, "LICENSE"))  # MediaPipe's Apache-2.0 notice
    (args.out / "provenance.json").write_text(json.dumps(provenance, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
