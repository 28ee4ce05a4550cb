"""Generation is reproducible, resumable and mergeable; the loader and dataset-stats catch every bad input."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ftensor.cli import main
from ftensor.data import FTensorDataset, generate_dataset, split_indices
from ftensor.data.layout import sample_paths
from ftensor.errors import FTensorError

SIZE = 64


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_same_bytes_whatever_the_workers(tmp_path):
    generate_dataset(tmp_path / "a", 40, image_size=SIZE, seed=3, workers=1, progress=False)
    generate_dataset(tmp_path / "b", 40, image_size=SIZE, seed=3, workers=2, progress=False)
    a, b = tree_bytes(tmp_path / "a"), tree_bytes(tmp_path / "b")
    assert len(a) == 3 * 40 + 8 + 1 and a == b
    generate_dataset(tmp_path / "c", 5, image_size=SIZE, seed=4, workers=1, progress=False)
    assert (tmp_path / "c/images/000000.png").read_bytes() != a["images/000000.png"]


def test_png_files_hold_exactly_the_pixels_written(tmp_path):
    from ftensor.files import png_bytes

    rng = np.random.default_rng(0)
    for shape in ((448, 256, 3), (37, 5, 3), (64, 64), (1, 1)):
        pixels = rng.integers(0, 256, shape, dtype=np.uint8)
        path = tmp_path / "image.png"
        path.write_bytes(png_bytes(pixels))
        with Image.open(path) as image:
            assert image.format == "PNG" and image.mode == ("RGB" if len(shape) == 3 else "L")
            assert np.array_equal(np.asarray(image), pixels), shape


def test_ranges_made_apart_merge_into_the_same_dataset(tmp_path):
    generate_dataset(tmp_path / "whole", 30, image_size=SIZE, seed=1, workers=1, progress=False)
    generate_dataset(tmp_path / "parts", 12, image_size=SIZE, seed=1, workers=1, progress=False)
    generate_dataset(tmp_path / "parts", 18, image_size=SIZE, seed=1, workers=2, start_index=12, progress=False)
    assert tree_bytes(tmp_path / "whole") == tree_bytes(tmp_path / "parts")


def test_resume_after_kill_9_completes_the_same_dataset(tmp_path):
    target = tmp_path / "killed"
    command = [
        sys.executable,
        "-m",
        "ftensor.cli",
        "generate",
        "--num_samples",
        "3000",
        "--data_dir",
        str(target),
        "--image_size",
        str(SIZE),
        "--workers",
        "2",
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 60
    while len(list((target / "metadata").glob("*.json"))) < 100 and time.time() < deadline:
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    made = len(list((target / "metadata").glob("*.json")))
    assert 100 <= made < 3000, "the run was killed part way"
    again = ["generate", "--num_samples", "3000", "--data_dir", str(target), "--image_size", str(SIZE)]
    assert not (target / "dataset.json").exists()
    assert main([*again, "--seed", "1"]) == 2, "no dataset.json yet, but the samples say which seed made them"
    assert main(again) == 0
    leftovers = [p for p in target.rglob("*") if p.name.startswith(".")]
    for p in leftovers:  # temp files of killed workers are never taken as samples
        assert p.name.endswith(".tmp")
    generate_dataset(tmp_path / "clean", 3000, image_size=SIZE, seed=0, progress=False)
    clean = tree_bytes(tmp_path / "clean")
    resumed = {k: v for k, v in tree_bytes(target).items() if not Path(k).name.startswith(".")}
    assert resumed == clean


def test_loader_returns_normalised_tensors_and_a_stable_split(tmp_path):
    generate_dataset(tmp_path, 60, image_size=SIZE, seed=0, progress=False)
    train, val = FTensorDataset(tmp_path, "train"), FTensorDataset(tmp_path, "val")
    assert len(train) + len(val) == 60 and not set(train.indices) & set(val.indices)
    assert 3 <= len(val) <= 9
    image, f_tensor = val[0]
    png = np.array(Image.open(sample_paths(tmp_path, val.indices[0])["image"]))
    assert image.dtype == torch.float32 and image.shape == (3, *png.shape[:2]) and min(png.shape[:2]) == SIZE
    assert 0.0 <= image.min() and image.max() <= 1.0
    assert torch.equal(image, torch.from_numpy(png).permute(2, 0, 1).float() / 255)
    stored = np.load(sample_paths(tmp_path, val.indices[0])["f_tensor"])
    assert f_tensor.dtype == torch.uint8 and torch.equal(f_tensor, torch.from_numpy(stored))
    # A sample keeps its split when the dataset grows.
    assert set(split_indices(list(range(60)), "val", 0.1)) <= set(split_indices(list(range(500)), "val", 0.1))
    assert len(split_indices(list(range(1000)), "val", 0.1)) == pytest.approx(100, abs=3)


def expect_error(fragment: str, *args, **kwargs) -> None:
    with pytest.raises(FTensorError, match=fragment):
        FTensorDataset(*args, **kwargs)[0]


def test_loader_errors_name_the_problem_and_the_fix(tmp_path):
    expect_error(r"Dataset not found at .*missing — run `ftensor generate --num_samples 1000`", tmp_path / "missing")
    data = tmp_path / "d"
    generate_dataset(data, 12, image_size=SIZE, seed=0, progress=False)
    with pytest.raises(FTensorError, match="val_fraction"):
        FTensorDataset(data, "val", val_fraction=1.5)

    info = json.loads((data / "dataset.json").read_text())
    (data / "dataset.json").write_text(json.dumps({**info, "spec_version": 99}))
    expect_error("spec_version 99", data)
    (data / "dataset.json").write_text(json.dumps(info))

    sample_paths(data, 5)["f_tensor"].unlink()
    expect_error(r"f_tensors/000005\.npy is missing", data)
    generate_dataset(data, 12, image_size=SIZE, seed=0, progress=False)  # a rerun repairs it

    sample_paths(data, 0)["image"].write_bytes(b"not a png")
    expect_error(r"images/000000\.png is not a readable PNG", data)
    sample_paths(data, 0)["image"].unlink()
    generate_dataset(data, 12, image_size=SIZE, seed=0, progress=False)

    np.save(sample_paths(data, 0)["f_tensor"], np.zeros((4, 32, 32), np.uint8))
    expect_error(r"f_tensors/000000\.npy has shape \(4, 32, 32\)", data)


def test_cli_reports_errors_without_a_traceback(tmp_path, capsys):
    assert main(["dataset-stats", "--data_dir", str(tmp_path / "nowhere")]) == 2
    assert "Dataset not found" in capsys.readouterr().err
    assert main(["generate", "--num_samples", "2", "--image_size", "100", "--data_dir", str(tmp_path)]) == 2
    assert "multiple of 16" in capsys.readouterr().err
    assert main(["generate", "--num_samples", "0", "--data_dir", str(tmp_path)]) == 2
    assert "--num_samples must be at least 1" in capsys.readouterr().err
    generate_dataset(tmp_path / "d", 4, image_size=SIZE, seed=0, progress=False)
    assert (
        main(["generate", "--num_samples", "4", "--seed", "5", "--image_size", "64", "--data_dir", str(tmp_path / "d")])
        == 2
    )
    assert "seed=0" in capsys.readouterr().err


def test_dataset_stats_counts_and_flags_corrupt_samples(tmp_path, capsys):
    data = tmp_path / "d"
    generate_dataset(data, 20, image_size=SIZE, seed=0, progress=False)
    report = tmp_path / "stats.json"
    assert main(["dataset-stats", "--data_dir", str(data), "--json", str(report)]) == 0
    stats = json.loads(report.read_text())
    assert stats["num_samples"] == 20 and stats["corrupt"] == []
    assert sum(stats["stats"]["class_fraction"]) == pytest.approx(1.0, abs=1e-3)
    assert stats["stats"]["role_counts"]["background"] == 20
    assert "white" in capsys.readouterr().out
    sample_paths(data, 7)["f_tensor"].write_bytes(b"\x93NUMPY garbage")
    assert main(["dataset-stats", "--data_dir", str(data)]) == 1
    assert "000007" in capsys.readouterr().out


def test_sizes_are_drawn_per_sample_and_declared_in_dataset_json(tmp_path, capsys):
    data = tmp_path / "d"
    command = ["generate", "--num_samples", "24", "--data_dir", str(data), "--sizes", "64x64,112x64,64x192"]
    assert main(command) == 0
    info = json.loads((data / "dataset.json").read_text())
    assert info["spec_version"] == 2 and info["image_size"] == 64
    declared = {tuple(item["size"]): item["count"] for item in info["sizes"]}
    assert set(declared) == {(64, 64), (112, 64), (64, 192)} and sum(declared.values()) == 24
    for index in range(24):
        meta = json.loads(sample_paths(data, index)["metadata"].read_text())
        w, h = meta["width"], meta["height"]
        assert declared[(w, h)] and np.load(sample_paths(data, index)["f_tensor"]).shape == (4, h, w)
        assert Image.open(sample_paths(data, index)["image"]).size == (w, h) and meta["image_size"] == min(w, h)
    assert "112×64" in capsys.readouterr().out
    assert main([*command[:-1], "64x64"]) == 2, "another size mix is refused in the same directory"
    assert "64x64,112x64,64x192" in capsys.readouterr().err
    assert main(["generate", "--num_samples", "2", "--data_dir", str(tmp_path / "e"), "--sizes", "64x320"]) == 2
    assert "1:4 to 4:1" in capsys.readouterr().err
    assert main(["generate", "--num_samples", "2", "--data_dir", str(tmp_path / "e"), "--aspects", "16-9"]) == 2
    assert "W:H" in capsys.readouterr().err


def test_batches_hold_one_size_and_follow_seed_and_epoch(tmp_path):
    from ftensor.data.dataset import SizeBatchSampler

    sizes = [(64, 64)] * 10 + [(112, 64)] * 7 + [(64, 128)] * 5
    sampler = SizeBatchSampler(sizes, 2, shuffle=True, seed=3)
    sampler.set_epoch(1)
    first = list(sampler)
    assert len(first) == len(sampler) == 5 + 3 + 2
    assert all(len({sizes[p] for p, _ in batch}) == 1 and len(batch) == 2 for batch in first)
    assert all(epoch == 1 for batch in first for _, epoch in batch)
    assert first == list(sampler), "the order is a function of (seed, epoch)"
    sampler.set_epoch(2)
    assert list(sampler) != first
    ranks = [SizeBatchSampler(sizes, 2, True, 3, world=2, rank=r) for r in (0, 1)]
    seen = [{p for batch in r for p, _ in batch} for r in ranks]
    assert len(ranks[0]) == len(ranks[1]) == len(list(ranks[0])) == 5 and not seen[0] & seen[1]
    every = list(SizeBatchSampler(sizes, 4))
    assert sorted(p for batch in every for p in batch) == list(range(22)), "evaluation sees every sample once"


def test_a_version_1_dataset_still_reads(tmp_path):
    """Version 1 (square designs, no sizes in dataset.json, no width/height in metadata) is valid version 2."""
    generate_dataset(tmp_path, 6, seed=0, progress=False, sizes=((64, 64),))
    info = json.loads((tmp_path / "dataset.json").read_text())
    v1 = {k: v for k, v in info.items() if k not in ("sizes", "size_mix", "variety")}
    (tmp_path / "dataset.json").write_text(json.dumps({**v1, "spec_version": 1}))
    for index in range(6):
        path = sample_paths(tmp_path, index)["metadata"]
        meta = json.loads(path.read_text())
        path.write_text(
            json.dumps({k: v for k, v in meta.items() if k not in ("width", "height")} | {"spec_version": 1})
        )
    dataset = FTensorDataset(tmp_path, "all")
    assert dataset.sizes == [(64, 64)] * 6 and dataset[0][0].shape == (3, 64, 64)
