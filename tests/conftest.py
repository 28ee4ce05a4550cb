"""Shared fixtures: a small generated dataset, a tiny trained checkpoint and its ONNX export (made once per run)."""

from __future__ import annotations

import os

import pytest

from ftensor.cli import main
from ftensor.data import generate_dataset

SIZE = 64
MIX = ((64, 64), (64, 64), (112, 64), (64, 128))  # squares, 16:9 and 1:2: every path meets other proportions
os.environ["BENTOML_DO_NOT_TRACK"] = "True"


@pytest.fixture(scope="session")
def dataset(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("export_data")
    generate_dataset(data_dir, 40, seed=0, progress=False, sizes=MIX)
    return data_dir


@pytest.fixture(scope="session")
def checkpoint(dataset, tmp_path_factory):
    """A briefly trained tiny model: its predictions vary from pixel to pixel, unlike an untrained one's."""
    out = tmp_path_factory.mktemp("trained")
    flags = ["--preset", "tiny", "--epochs", "3", "--batch_size", "4", "--num_workers", "0", "--lr", "3e-3"]
    assert main(["train", "--data_dir", str(dataset), "--run", str(out), *flags]) == 0
    return out / "checkpoints" / "encoder_best.pth"


@pytest.fixture(scope="session")
def exported(checkpoint, dataset, tmp_path_factory):
    """The fp32 export every export, runtime and serving test uses (int8 has fixtures and tests of its own)."""
    output = tmp_path_factory.mktemp("onnx") / "encoder.onnx"
    assert main(["export", "--checkpoint", str(checkpoint), "--output", str(output), "--data_dir", str(dataset)]) == 0
    return output


@pytest.fixture(scope="session")
def int8_export(checkpoint, dataset, tmp_path_factory):
    """(fp32, int8) files of one `ftensor export --int8`."""
    output = tmp_path_factory.mktemp("int8") / "encoder.onnx"
    command = ["export", "--checkpoint", str(checkpoint), "--output", str(output), "--data_dir", str(dataset)]
    assert main([*command, "--int8"]) == 0
    return output, output.with_suffix(".int8.onnx")
