"""Export + parity on a tiny model, tamper detection, metadata round trip, int8, and bad checkpoints."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
from conftest import SIZE

from ftensor.cli import main
from ftensor.export.parity import compare
from ftensor.model import build_model, count_parameters
from ftensor.spec import CLASS_NAMES, INPUT_NAME, OUTPUT_NAMES, PALETTE, SPEC_VERSION
from ftensor.training.checkpoint import save_checkpoint


def test_export_writes_one_self_contained_file_with_metadata(exported, checkpoint):
    files = sorted(p.name for p in exported.parent.iterdir())
    assert files == ["encoder.onnx"], "one file, no external-data side file or leftover temporary"
    session = ort.InferenceSession(str(exported), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == [INPUT_NAME]
    assert session.get_inputs()[0].type == "tensor(uint8)"
    assert [o.name for o in session.get_outputs()] == list(OUTPUT_NAMES)
    meta = session.get_modelmeta().custom_metadata_map
    assert meta["spec_version"] == str(SPEC_VERSION)
    assert json.loads(meta["class_names"]) == list(CLASS_NAMES)
    assert json.loads(meta["palette"]) == PALETTE.tolist()
    assert meta["image_size"] == str(SIZE) and meta["preset"] == "tiny"
    assert meta["parameters"] == str(count_parameters(build_model("tiny")))
    assert json.loads(meta["val_metrics"]) == torch.load(checkpoint, weights_only=True)["val_metrics"]
    assert set(json.loads(meta["heads"])) == set(OUTPUT_NAMES)
    # Dynamic batch, height and width: any multiple of 16.
    f_tensor = session.run(["f_tensor"], {INPUT_NAME: np.zeros((3, 80, 112, 3), np.uint8)})[0]
    assert f_tensor.shape == (3, 4, 80, 112) and f_tensor.dtype == np.uint8


def test_the_same_checkpoint_always_exports_to_the_same_bytes(checkpoint, exported, tmp_path):
    """predict tells models apart by their sha256, so a re-export of the same checkpoint must not look like
    another model. torch's notes on the traced program (graph metadata) listed its symbolic ranges in an
    order that varied between processes (seen: a `make demo` rerun refused by its own predictions), and
    each node's stack trace named the checkout's path (the same demo rerun from another clone), so the
    export drops both."""
    assert not onnx.load(exported).graph.metadata_props
    assert str(Path(__file__).resolve().parents[1]).encode() not in exported.read_bytes()
    again = tmp_path / "again.onnx"
    assert main(["export", "--checkpoint", str(checkpoint), "--output", str(again)]) == 0
    assert again.read_bytes() == exported.read_bytes()


def test_parity_command_passes_on_the_export(checkpoint, exported, dataset, capsys):
    assert main(["parity", "--checkpoint", str(checkpoint), "--onnx", str(exported), "--data_dir", str(dataset)]) == 0
    out = capsys.readouterr().out
    assert "parity PASSED" in out and "random batch 1" in out and "val images" in out


def tamper(source, destination, change) -> None:
    """Copy an ONNX file with `change` applied to the values of its largest convolution kernel."""
    model = onnx.load(source)
    weight = max(model.graph.initializer, key=lambda t: len(t.dims))
    values = onnx.numpy_helper.to_array(weight).copy()
    change(values)
    weight.CopyFrom(onnx.numpy_helper.from_array(values, weight.name))
    onnx.save(model, destination)


def test_a_tampered_onnx_file_fails_parity(checkpoint, exported, tmp_path, capsys):
    def shift(values):
        values.flat[0] += 1.0

    tamper(exported, tmp_path / "tampered.onnx", shift)
    assert main(["parity", "--checkpoint", str(checkpoint), "--onnx", str(tmp_path / "tampered.onnx")]) == 1
    assert "parity FAILED" in capsys.readouterr().out


def test_parity_fails_on_nan_in_any_head_and_on_a_shape_mismatch():
    ok = [np.zeros((1, 4, 16, 16), np.uint8), *(np.zeros((1, c, 16, 16), np.float32) for c in (1, 1, 12, 1))]
    with_nan = [a.copy() for a in ok]
    with_nan[3][0, 5, 3, 3] = np.nan  # not the first float head: max() over the heads used to skip it
    assert compare("ok", ok, ok, 1e-4)["passed"]
    assert not compare("nan", ok, with_nan, 1e-4)["passed"]
    narrow = [a[..., :8] for a in ok]  # broadcasting would hide this
    assert not compare("shape", ok, [ok[0], *narrow[1:]], 1e-4)["passed"]


def test_a_failing_export_leaves_the_previous_file_untouched(checkpoint, exported, tmp_path, capsys):
    output = tmp_path / "encoder.onnx"
    output.write_bytes(exported.read_bytes())
    before = output.read_bytes()
    code = main(["export", "--checkpoint", str(checkpoint), "--output", str(output), "--atol", "0"])
    out = capsys.readouterr().out
    assert code == 1 and "parity FAILED" in out and "previous file is untouched" in out
    assert output.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["encoder.onnx"]


def test_bad_checkpoints_and_files_give_clear_errors(tmp_path, checkpoint, capsys):
    output = str(tmp_path / "x.onnx")
    assert main(["export", "--checkpoint", str(tmp_path / "missing.pth"), "--output", output]) == 2
    assert "checkpoint not found" in capsys.readouterr().err
    (tmp_path / "corrupt.pth").write_bytes(b"not a checkpoint")
    assert main(["export", "--checkpoint", str(tmp_path / "corrupt.pth"), "--output", output]) == 2
    assert "not a readable checkpoint" in capsys.readouterr().err
    state = torch.load(checkpoint, weights_only=True)
    state["config"]["preset"] = "small"
    save_checkpoint(state, tmp_path / "mismatch.pth")
    assert main(["export", "--checkpoint", str(tmp_path / "mismatch.pth"), "--output", output]) == 2
    assert "do not match the 'small' preset" in capsys.readouterr().err
    (tmp_path / "junk.onnx").write_bytes(b"junk")
    assert main(["parity", "--checkpoint", str(checkpoint), "--onnx", str(tmp_path / "junk.onnx")]) == 2
    assert "not a valid ONNX model" in capsys.readouterr().err
    assert main(["export", "--checkpoint", str(checkpoint), "--output", output, "--int8"]) == 2
    assert "--data_dir" in capsys.readouterr().err
