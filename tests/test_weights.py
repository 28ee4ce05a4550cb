"""The weights a clone ships (weights/small_128.pth, made by scripts/pretrain.sh), which the quick start
fine-tunes: they load in this release and read designs of the variety they never saw. A change of the
`small` model or of the checkpoint format that breaks them fails here, not in a user's quick start."""

from __future__ import annotations

import json
from pathlib import Path

from ftensor.cli import main
from ftensor.data import generate_dataset
from ftensor.spec import SUCCESS_CRITERIA
from ftensor.training.checkpoint import load_checkpoint

WEIGHTS = Path(__file__).parents[1] / "weights/small_128.pth"


def test_the_shipped_weights_load_and_meet_the_criteria_on_unseen_designs(tmp_path):
    config = load_checkpoint(WEIGHTS)["config"]
    assert (config["preset"], config["image_size"], config["spec_version"]) == ("small", 128, 2)
    data = tmp_path / "held_out"
    generate_dataset(data, 48, image_size=128, seed=7, progress=False, variety="held_out")
    args = ["val", "--model", str(WEIGHTS), "--data_dir", str(data), "--output", str(tmp_path / "val")]
    assert main(args) == 0
    metrics = json.loads((tmp_path / "val/val.json").read_text())["metrics"]
    for name, kind, bound in SUCCESS_CRITERIA:
        assert metrics[name] > bound if kind == ">" else metrics[name] < bound, (name, metrics[name])
