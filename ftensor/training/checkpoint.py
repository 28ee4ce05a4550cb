"""Checkpoints: written atomically, read with `torch.load(weights_only=True)` only.

A checkpoint is a plain dict of tensors and builtins — model, optimizer and schedule state, epoch,
best metric, RNG states and the full config (preset, image size, spec_version) — so `--resume`
continues exactly and nothing but data is ever unpickled.
"""

from __future__ import annotations

import io
import pickle
from pathlib import Path

import torch
from torch import nn

from ftensor.errors import FTensorError
from ftensor.files import atomic_write_bytes
from ftensor.model import build_model, count_parameters
from ftensor.spec import SPEC_VERSION


def save_checkpoint(state: dict, path: Path) -> None:
    """Write `state` atomically: never a half-written checkpoint under a valid name."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    atomic_write_bytes(path, buffer.getvalue(), durable=True)


def load_checkpoint(path: Path) -> dict:
    """Read a checkpoint safely; anything that is not an ftensor checkpoint is refused clearly."""
    if not path.is_file():
        raise FTensorError(f"checkpoint not found at {path} — train one with `ftensor train` or pass --checkpoint.")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        if "Unsupported global" in str(error):  # a class or function, not just tensors and builtins
            raise FTensorError(
                f"{path} holds pickled Python objects, which ftensor refuses to load (weights_only=True): "
                "only checkpoints written by `ftensor train` are accepted."
            ) from error
        raise FTensorError(f"{path} is not a readable checkpoint ({str(error).splitlines()[0]}).") from error
    except (RuntimeError, EOFError, OSError, ValueError) as error:
        raise FTensorError(f"{path} is not a readable checkpoint ({str(error).splitlines()[0]}).") from error
    if not isinstance(state, dict) or "model" not in state or "config" not in state:
        raise FTensorError(f"{path} is not an ftensor checkpoint (no model weights and config inside).")
    version = state["config"].get("spec_version")
    if version != SPEC_VERSION:
        raise FTensorError(f"{path} was trained for spec_version {version}, this ftensor speaks {SPEC_VERSION}.")
    return state


def restore_model(state: dict, path: Path) -> nn.Module:
    """The checkpoint's model, with a clear error when its weights do not fit its preset."""
    model = build_model(state["config"]["preset"])
    try:
        model.load_state_dict(state["model"])
    except RuntimeError as error:
        raise FTensorError(
            f"{path}: the weights do not match the {state['config']['preset']!r} preset "
            f"({str(error).splitlines()[0]}). `small` and `tiny` gained a row-context layer in ftensor 0.5 and "
            "changed it in 0.6: a checkpoint of theirs from an earlier release loads in that release, and an "
            "ONNX file exported from it serves with any release."
        ) from error
    return model


def load_trained_model(path: Path) -> tuple[nn.Module, dict]:
    """(model in eval mode, info) for export and evaluation; info has preset, image_size, parameters,
    the val fraction it was trained with and the checkpoint's val metrics."""
    state = load_checkpoint(path)
    model = restore_model(state, path).eval()
    info = {
        "preset": state["config"]["preset"],
        "image_size": int(state["config"]["image_size"]),
        "parameters": count_parameters(model),
        "val_fraction": float(state["config"].get("val_fraction", 0.1)),
        "val_metrics": state.get("val_metrics", {}),
    }
    return model, info
