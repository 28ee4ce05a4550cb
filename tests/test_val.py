"""`ftensor val` on all three model kinds, against training's own validation, and what it reports."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from ftensor.cli import main
from ftensor.spec import ROLES


def val(model, dataset, out, *extra) -> dict:
    args = ["val", "--model", str(model), "--data_dir", str(dataset), "--output", str(out), "--split", "val"]
    assert main([*args, *extra]) == 0
    return json.loads((out / "val.json").read_text())


def test_val_scores_checkpoint_onnx_and_int8_as_training_validates(checkpoint, int8_export, dataset, tmp_path):
    fp32, int8 = int8_export
    args = ["train", "--validate", "--checkpoint", str(checkpoint), "--data_dir", str(dataset)]
    assert main([*args, "--json", str(tmp_path / "validate.json")]) == 0
    trained = json.loads((tmp_path / "validate.json").read_text())
    from_checkpoint = val(checkpoint, dataset, tmp_path / "pth")
    assert from_checkpoint["kind"].startswith("checkpoint") and from_checkpoint["images"] == trained["val_samples"]
    assert from_checkpoint["metrics"] == pytest.approx(trained["metrics"], abs=1e-9)
    from_onnx = val(fp32, dataset, tmp_path / "onnx")
    assert from_onnx["kind"].startswith("ONNX")
    assert from_onnx["metrics"] == pytest.approx(trained["metrics"], abs=1e-3)
    from_int8 = val(int8, dataset, tmp_path / "int8")
    assert from_int8["kind"].startswith("int8 ONNX")
    assert from_int8["metrics"] == pytest.approx(trained["metrics"], abs=0.01)


def test_val_reports_roles_confusions_and_a_picture_of_the_worst_samples(exported, dataset, tmp_path, capsys):
    report = val(exported, dataset, tmp_path, "--split", "all", "--worst", "3")
    assert report["images"] == 40 and report["split"] == "all"
    roles = report["hierarchy_by_role"]
    assert {"background", "headline"} <= set(roles) <= set(ROLES)
    sizes = [Image.open(path).size for path in sorted((dataset / "images").glob("*.png"))]
    assert sum(r["pixels"] for r in roles.values()) == sum(w * h for w, h in sizes), "every pixel has one true role"
    assert {size: part["images"] for size, part in report["by_size"].items()} == {
        f"{w}x{h}": sizes.count((w, h)) for w, h in set(sizes)
    }, "metrics per design size, each over its own images"
    assert all(0 <= r["mse"] <= r["mean_abs_error"] <= 1 for r in roles.values())
    confusions = report["color_confusions"]
    assert 0 < len(confusions) <= 5 and confusions == sorted(confusions, key=lambda c: -c["pixels"])
    errors = [w["wrong_pixels"] for w in report["worst"]]
    assert len(errors) == 3 and errors == sorted(errors, reverse=True)
    grid = np.asarray(Image.open(tmp_path / "worst.png"))
    heights = [np.load(dataset / "f_tensors" / f"{w['index']:06d}.npy").shape[1] for w in report["worst"]]
    assert grid.shape[0] == sum(h + 14 + 4 for h in heights) and grid.shape[1] > 10 * 64
    assert "largest colour confusions" in capsys.readouterr().out
    assert main(["val", "--model", str(tmp_path / "missing.onnx"), "--data_dir", str(dataset)]) == 2
    assert "model not found" in capsys.readouterr().err
