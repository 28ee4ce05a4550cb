"""The run folder: every command finds and writes its files under one `--run runs/NAME`.

    runs/NAME/
      checkpoints/encoder_best.pth       best val loss (full state)
      checkpoints/encoder_last.pth       the latest epoch (full state: a rerun resumes from it)
      checkpoints/encoder_epoch_NNN.pth  per epoch, weights only (`--save_period` thins them)
      logs/encoder_training_log.json, logs/training_curves.png
      visualizations/encoder/epoch_NNN_val.png
      exports/encoder.onnx, exports/encoder.int8.onnx
      predictions/
      val/val.json, val/worst.png

`ftensor train`, `export`, `parity`, `val`, `predict`, `serve` and `train --validate` all default to the
same run, so the commands chain without paths; an explicit path flag overrides any one file.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

DEFAULT_RUN = "runs/default"


@dataclass(frozen=True)
class RunFolder:
    root: Path

    @property
    def checkpoints(self) -> Path:
        return self.root / "checkpoints"

    @property
    def best(self) -> Path:
        return self.checkpoints / "encoder_best.pth"

    @property
    def last(self) -> Path:
        return self.checkpoints / "encoder_last.pth"

    def epoch(self, number: int) -> Path:
        return self.checkpoints / f"encoder_epoch_{number:03d}.pth"

    @property
    def log(self) -> Path:
        return self.root / "logs" / "encoder_training_log.json"

    @property
    def curves(self) -> Path:
        return self.root / "logs" / "training_curves.png"

    @property
    def visualizations(self) -> Path:
        return self.root / "visualizations" / "encoder"

    @property
    def onnx(self) -> Path:
        return self.root / "exports" / "encoder.onnx"

    @property
    def predictions(self) -> Path:
        return self.root / "predictions"

    @property
    def val(self) -> Path:
        return self.root / "val"


def add_run_argument(parser: argparse.ArgumentParser, *aliases: str) -> None:
    parser.add_argument(
        "--run", *aliases, dest="run", default=DEFAULT_RUN, help="run folder this command reads and writes"
    )


def chosen(path: str | None, default: Path) -> Path:
    """An explicit path flag, or the run folder's file."""
    return Path(path) if path else default
