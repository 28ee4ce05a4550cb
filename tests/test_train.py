"""`ftensor train` end to end on a tiny model: the run folder, exact resume, validation-only mode, DDP, errors."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
import torch

from ftensor.cli import main
from ftensor.data import generate_dataset
from ftensor.errors import FTensorError
from ftensor.training import train as training
from ftensor.training.checkpoint import load_checkpoint

SIZE = 64
MIX = ((64, 64), (64, 64), (112, 64), (64, 128))
TINY = ["--preset", "tiny", "--batch_size", "4", "--num_workers", "0", "--lr", "3e-3"]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("train_data")
    generate_dataset(data_dir, 48, seed=0, progress=False, sizes=MIX)
    return data_dir


def train(dataset, out, *extra) -> int:
    return main(["train", "--data_dir", str(dataset), "--run", str(out), *TINY, *extra])


def test_a_tiny_run_writes_every_output(dataset, tmp_path, capsys):
    assert train(dataset, tmp_path, "--epochs", "2") == 0
    for name in [
        "checkpoints/encoder_best.pth",
        "checkpoints/encoder_last.pth",
        "checkpoints/encoder_epoch_001.pth",
        "checkpoints/encoder_epoch_002.pth",
        "visualizations/encoder/epoch_001_val.png",
        "visualizations/encoder/epoch_002_val.png",
        "logs/encoder_training_log.json",
        "logs/training_curves.png",
    ]:
        assert (tmp_path / name).stat().st_size > 0, name
    log = json.loads((tmp_path / "logs/encoder_training_log.json").read_text())
    assert [e["epoch"] for e in log["epochs"]] == [1, 2]
    assert log["config"]["preset"] == "tiny" and log["config"]["image_size"] == SIZE
    assert set(log["epochs"][0]["val_metrics"]) == {"text_iou", "image_iou", "color_accuracy", "hierarchy_mse"}
    assert log["epochs"][0]["samples_per_second"] > 0
    assert "text_iou" in capsys.readouterr().out
    last = load_checkpoint(tmp_path / "checkpoints/encoder_last.pth")
    assert {"model", "optimizer", "scheduler", "epoch", "best_val_loss", "rng", "config"} <= set(last)
    assert last["config"]["spec_version"] == 2 and last["epoch"] == 2
    epoch = load_checkpoint(tmp_path / "checkpoints/encoder_epoch_002.pth")
    assert set(epoch) == {"model", "epoch", "val_metrics", "config"}, "per-epoch checkpoints hold weights only"
    assert all(torch.equal(epoch["model"][k], v) for k, v in last["model"].items())


def test_resume_after_a_crash_ends_with_the_same_weights(dataset, tmp_path, capsys, monkeypatch):
    assert train(dataset, tmp_path / "straight", "--epochs", "3", "--save_period", "2") == 0
    names = sorted(p.name for p in (tmp_path / "straight/checkpoints").iterdir())
    assert names == ["encoder_best.pth", "encoder_epoch_002.pth", "encoder_last.pth"], "--save_period 2 thins them"
    evaluations = {"count": 0}
    evaluate = training.evaluate

    def crash_in_epoch_3(*args, **kwargs):  # the process dies after epoch 3's training, before it is saved
        evaluations["count"] += 1
        if evaluations["count"] == 3:
            raise KeyboardInterrupt
        return evaluate(*args, **kwargs)

    monkeypatch.setattr(training, "evaluate", crash_in_epoch_3)
    assert train(dataset, tmp_path / "stopped", "--epochs", "3") == 130
    monkeypatch.setattr(training, "evaluate", evaluate)
    last = tmp_path / "stopped/checkpoints/encoder_last.pth"
    assert load_checkpoint(last)["epoch"] == 2
    # A `last` cut short (a file system that lost the write) falls back to `best`, which continues the run too.
    shutil.copytree(tmp_path / "stopped", tmp_path / "torn")
    torn = tmp_path / "torn/checkpoints/encoder_last.pth"
    torn.write_bytes(torn.read_bytes()[: torn.stat().st_size // 2])
    assert train(dataset, tmp_path / "torn", "--epochs", "3") == 0
    assert f"Resuming from {tmp_path / 'torn/checkpoints/encoder_best.pth'} instead" in capsys.readouterr().out
    resumed_elsewhere = ["--epochs", "3", "--resume", str(last)]
    assert train(dataset, tmp_path / "resumed", *resumed_elsewhere) == 0
    # Rerunning the same command into the same run folder resumes by itself.
    assert train(dataset, tmp_path / "stopped", "--epochs", "3") == 0
    assert f"resuming from {last}" in capsys.readouterr().out
    straight = load_checkpoint(tmp_path / "straight/checkpoints/encoder_last.pth")
    for run in ("resumed", "stopped", "torn"):
        resumed = load_checkpoint(tmp_path / run / "checkpoints/encoder_last.pth")
        for name, tensor in straight["model"].items():
            assert torch.equal(tensor, resumed["model"][name]), (run, name)
        assert [e["epoch"] for e in resumed["history"]] == [1, 2, 3]
    weights_only = tmp_path / "straight/checkpoints/encoder_epoch_002.pth"
    assert train(dataset, tmp_path / "again", "--epochs", "3", "--resume", str(weights_only)) == 2
    assert "holds weights only" in capsys.readouterr().err


def test_a_finished_run_is_never_overwritten(dataset, tmp_path, capsys):
    assert train(dataset, tmp_path, "--epochs", "1") == 0
    for path in (tmp_path / "checkpoints").glob("encoder_[lb]*.pth"):  # as 0.7 wrote them: neither setting
        state = load_checkpoint(path)
        del state["config"]["hierarchy_balance"], state["config"]["dataset"]
        torch.save(state, path)
    files = {p: p.read_bytes() for p in (tmp_path / "checkpoints").iterdir()}
    capsys.readouterr()
    assert train(dataset, tmp_path, "--epochs", "1") == 0
    assert "nothing to train" in capsys.readouterr().out, "a setting an older checkpoint lacks had its default"
    assert train(dataset, tmp_path, "--epochs", "1", "--lr", "1e-3") == 2
    assert "lr 0.003 there, 0.001 now" in capsys.readouterr().err
    assert train(dataset, tmp_path, "--epochs", "1", "--hierarchy_balance", "0.5") == 2
    assert "hierarchy_balance 0.0 there, 0.5 now" in capsys.readouterr().err
    # --resume from another run's state does not make this folder's run its own: its settings are checked.
    elsewhere = load_checkpoint(tmp_path / "checkpoints/encoder_last.pth")
    elsewhere["config"].update(epochs=2, lr=1e-3)  # a run of other settings, one epoch of two done
    torch.save(elsewhere, tmp_path / "elsewhere.pth")
    assert train(dataset, tmp_path, "--epochs", "2", "--lr", "1e-3", "--resume", str(tmp_path / "elsewhere.pth")) == 2
    assert "epochs 1 there, 2 now" in capsys.readouterr().err
    assert {p: p.read_bytes() for p in (tmp_path / "checkpoints").iterdir()} == files


def test_a_run_resumes_on_its_own_data_only(dataset, tmp_path, capsys):
    """Another dataset of the same size would pass every other setting: the run knows its data by
    dataset.json, so the same data moved elsewhere continues it and other data is refused."""
    run = tmp_path / "run"
    assert train(dataset, run, "--epochs", "1") == 0
    files = {p: p.read_bytes() for p in (run / "checkpoints").iterdir()}
    other = tmp_path / "other_data"
    generate_dataset(other, 48, seed=1, progress=False, sizes=MIX)
    capsys.readouterr()
    assert train(other, run, "--epochs", "1") == 2
    assert "dataset '" in capsys.readouterr().err
    moved = tmp_path / "moved_data"
    shutil.copytree(dataset, moved)
    assert train(moved, run, "--epochs", "1") == 0
    assert "nothing to train" in capsys.readouterr().out
    assert {p: p.read_bytes() for p in (run / "checkpoints").iterdir()} == files


def test_fine_tunes_weights_of_its_own_preset(dataset, tmp_path, capsys):
    """--weights starts a new run from another's weights (a fresh optimiser and schedule); the run records
    them by content, so a rerun without them, or with others, is refused rather than continued."""
    assert train(dataset, tmp_path / "base", "--epochs", "1") == 0
    weights = tmp_path / "base/checkpoints/encoder_epoch_001.pth"
    capsys.readouterr()
    assert train(dataset, tmp_path / "tuned", "--epochs", "1", "--lr", "1e-9", "--weights", str(weights)) == 0
    assert f"starting from {weights}" in capsys.readouterr().out
    tuned = load_checkpoint(tmp_path / "tuned/checkpoints/encoder_last.pth")
    start = load_checkpoint(weights)["model"]
    convolutions = [k for k, v in start.items() if v.dim() == 4]
    assert all(torch.allclose(tuned["model"][k], start[k], atol=1e-6) for k in convolutions), "a step of 1e-9"
    assert tuned["epoch"] == 1 and tuned["config"]["start"] == training.fingerprint(weights)
    assert train(dataset, tmp_path / "tuned", "--epochs", "1", "--lr", "1e-9") == 2
    assert f"start {training.fingerprint(weights)!r} there, 'random' now" in capsys.readouterr().err
    assert train(dataset, tmp_path / "small", "--epochs", "1", "--preset", "small", "--weights", str(weights)) == 2
    assert "holds a 'tiny' model, not 'small': pass --preset tiny" in capsys.readouterr().err
    assert train(dataset, tmp_path / "none", "--epochs", "1", "--weights", str(tmp_path / "none.pth")) == 2
    assert "none.pth does not exist" in capsys.readouterr().err


def test_validate_only_prints_and_writes_metrics(dataset, tmp_path, capsys):
    assert train(dataset, tmp_path, "--epochs", "1") == 0
    capsys.readouterr()
    report = tmp_path / "metrics.json"
    args = ["train", "--validate", "--run", str(tmp_path), "--data_dir", str(dataset), "--json", str(report)]
    assert main(args) == 0
    assert f"{tmp_path / 'checkpoints/encoder_best.pth'} (epoch 1)" in capsys.readouterr().out
    result = json.loads(report.read_text())
    assert result["epoch"] == 1 and set(result["criteria_met"]) == set(result["metrics"])


def test_refuses_pickled_objects_and_mismatches(dataset, tmp_path, capsys):
    evil = tmp_path / "evil.pth"
    torch.save({"model": {}, "config": {}, "payload": subprocess.Popen}, evil)
    assert main(["train", "--validate", "--checkpoint", str(evil), "--data_dir", str(dataset)]) == 2
    assert "refuses to load" in capsys.readouterr().err
    assert train(dataset, tmp_path / "run", "--epochs", "1") == 0
    checkpoint = tmp_path / "run/checkpoints/encoder_best.pth"
    assert train(dataset, tmp_path / "other", "--epochs", "1", "--preset", "small", "--resume", str(checkpoint)) == 2
    assert "preset 'tiny' there, 'small' now" in capsys.readouterr().err
    other_size = tmp_path / "data128"
    generate_dataset(other_size, 12, image_size=128, seed=0, progress=False)
    assert main(["train", "--validate", "--checkpoint", str(checkpoint), "--data_dir", str(other_size)]) == 2
    assert "trained on designs of reference size 64px" in capsys.readouterr().err


def test_bad_flags_and_small_datasets_are_clear_errors(dataset, tmp_path, capsys):
    for flags, message in [
        (["--epochs", "0"], "--epochs must be at least 1"),
        (["--batch_size", "0"], "--batch_size must be at least 1"),
        (["--lr", "0"], "--lr must be positive"),
        (["--hierarchy_balance", "2"], "--hierarchy_balance is a share, from 0 to 1"),
        (["--preset", "huge"], "--preset 'huge' is unknown"),
        (["--batch_size", "500"], "too few for a batch of --batch_size 500"),
    ]:
        assert train(dataset, tmp_path, *flags) == 2
        assert message in capsys.readouterr().err
    assert main(["train", "--data_dir", str(tmp_path / "none"), "--run", str(tmp_path)]) == 2
    assert "Dataset not found" in capsys.readouterr().err


def test_precision_is_bf16_only_where_the_cpu_computes_it_natively(dataset, tmp_path, capsys):
    cpu = torch.device("cpu")
    assert training.uses_bf16(cpu, "bf16") and not training.uses_bf16(cpu, "fp32")
    with pytest.raises(FTensorError, match="--precision 'fp16' is unknown"):
        training.TrainConfig(precision="fp16").check()
    # With PyTorch and oneDNN held to AVX2 kernels (an AVX2-only CPU's), bf16 would be emulated, 10× slower.
    avx2 = {**os.environ, "ONEDNN_MAX_CPU_ISA": "AVX2", "ATEN_CPU_CAPABILITY": "avx2"}
    probe = "import torch; from ftensor.training.train import uses_bf16; print(uses_bf16(torch.device('cpu')))"
    assert subprocess.run([sys.executable, "-c", probe], env=avx2, capture_output=True, text=True).stdout == "False\n"
    # A run says, and records, which it used.
    assert train(dataset, tmp_path, "--epochs", "1", "--precision", "fp32") == 0
    assert " in fp32, " in capsys.readouterr().out
    assert json.loads((tmp_path / "logs/encoder_training_log.json").read_text())["config"]["bf16"] is False


def test_ddp_with_two_cpu_processes(dataset, tmp_path):
    # Under torchrun the run folder is spelled --output_dir: torchrun's own parser takes --run for its --run-path.
    command = [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29533",
        "-m", "ftensor.cli", "train", "--data_dir", str(dataset), "--output_dir", str(tmp_path),
        "--epochs", "1", "--device", "cpu", *TINY,
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(command, capture_output=True, text=True, timeout=240, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "weights identical on all 2 ranks" in result.stdout
    assert "on cpu × 2" in result.stdout
    state = load_checkpoint(tmp_path / "checkpoints/encoder_last.pth")
    assert state["config"]["world_size"] == 2
    assert len(list((tmp_path / "checkpoints").iterdir())) == 3, "only rank 0 writes"


def test_the_torch_floor_excludes_releases_whose_safe_loading_can_run_code():
    """torch.load(weights_only=True), which guards every checkpoint read, could be bypassed before 2.6
    (CVE-2025-32434) and again before 2.10."""
    from pathlib import Path

    tomllib = pytest.importorskip("tomllib")
    from packaging.requirements import Requirement

    project = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())["project"]
    torch_requirement = next(Requirement(r) for r in project["optional-dependencies"]["train"] if r.startswith("torch"))
    assert not any(torch_requirement.specifier.contains(v) for v in ("2.4.0", "2.5.1", "2.9.1"))
    assert torch_requirement.specifier.contains("2.13.0")
