"""Train the U-Net encoder: one straight loop, its whole config in one dataclass.

Runs on CPU (bf16 autocast where it computes bf16 natively), CUDA (bf16 autocast) or MPS, and across
processes under `torchrun` (DistributedDataParallel: gloo on CPU, nccl on CUDA; only rank 0 writes
files). The data order is a function of (seed, epoch), and `encoder_last.pth` holds everything else
that changes, so a run resumed from epoch k ends with the same weights as one that never stopped.
Rerunning the same command into the same --run resumes from its last finished epoch; other settings
there are refused, so a finished run is never overwritten.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import math
import os
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader
from tqdm import tqdm

from ftensor.data.dataset import FTensorDataset, SizeBatchSampler
from ftensor.data.degrade import Degradations
from ftensor.data.layout import DEFAULT_DATA_DIR, dataset_paths
from ftensor.errors import FTensorError
from ftensor.files import atomic_write_bytes
from ftensor.metrics import SpecMetrics, criteria_met
from ftensor.model import PRESETS, build_model, count_parameters, heads_to_f_tensor
from ftensor.runs import DEFAULT_RUN, RunFolder
from ftensor.spec import SPEC_VERSION, SUCCESS_CRITERIA
from ftensor.training.checkpoint import load_checkpoint, restore_model, save_checkpoint
from ftensor.training.loss import CompositeLoss

NUM_VISUALIZED = 4
PRECISIONS = ("auto", "fp32", "bf16")
# What shapes a run's weights: resuming with any of these changed would not continue the same run.
RUN_SETTINGS = (
    "preset",
    "image_size",
    "epochs",
    "batch_size",
    "world_size",
    "train_samples",
    "lr",
    "weight_decay",
    "warmup_fraction",
    "val_fraction",
    "dice_weight",
    "ce_weight",
    "mse_weight",
    "hierarchy_balance",
    "degrade",
    "seed",
    "dataset",
    "start",
)


@dataclass
class TrainConfig:
    data_dir: str = DEFAULT_DATA_DIR
    run: str = DEFAULT_RUN  # the run folder (ftensor.runs)
    preset: str = "unet"
    epochs: int = 50
    batch_size: int = 8
    lr: float = 1e-3  # peak of the one-cycle schedule
    weight_decay: float = 1e-4
    warmup_fraction: float = 0.15
    num_workers: int | None = None  # None: see loader_workers
    val_fraction: float = 0.1
    dice_weight: float = 1.0
    ce_weight: float = 1.0
    mse_weight: float = 1.0
    hierarchy_balance: float = 0.0  # share of the hierarchy loss averaged per role (ftensor.training.loss)
    device: str = "auto"
    precision: str = "auto"  # of the training steps: see `uses_bf16`
    degrade: bool = False  # train on captured-looking copies: JPEG, blur, resampling, colour noise
    seed: int = 0
    resume: str | None = None
    save_period: int = 1  # keep a weights-only checkpoint every N epochs (0: none)
    weights: str | None = None  # start from these weights (fine-tune), e.g. the shipped weights/small_128.pth

    def check(self) -> None:
        """Refuse flags that cannot work, naming the flag."""
        if self.preset not in PRESETS:
            raise FTensorError(f"--preset {self.preset!r} is unknown; choose one of {', '.join(PRESETS)}.")
        for name in ("epochs", "batch_size"):
            if getattr(self, name) < 1:
                raise FTensorError(f"--{name} must be at least 1, got {getattr(self, name)}.")
        for name in ("lr", "dice_weight", "ce_weight", "mse_weight"):
            if not getattr(self, name) >= 0 or (name == "lr" and self.lr == 0):
                raise FTensorError(f"--{name} must be {'positive' if name == 'lr' else '0 or more'}.")
        for name in ("num_workers", "save_period"):
            if (getattr(self, name) or 0) < 0:
                raise FTensorError(f"--{name} must be 0 or more, got {getattr(self, name)}.")
        if not 0 <= self.hierarchy_balance <= 1:
            raise FTensorError(f"--hierarchy_balance is a share, from 0 to 1; got {self.hierarchy_balance}.")
        if self.device not in ("auto", "cpu", "cuda", "mps"):
            raise FTensorError(f"--device {self.device!r} is unknown; choose auto, cpu, cuda or mps.")
        if self.precision not in PRECISIONS:
            raise FTensorError(f"--precision {self.precision!r} is unknown; choose {', '.join(PRECISIONS)}.")


@dataclass(frozen=True)
class Processes:
    """Where this process stands among the training processes (set by torchrun; one process otherwise)."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @classmethod
    def from_environment(cls) -> Processes:
        env = os.environ
        return cls(int(env.get("RANK", "0")), int(env.get("WORLD_SIZE", "1")), int(env.get("LOCAL_RANK", "0")))

    @property
    def main(self) -> bool:
        """Only the main process writes files and prints."""
        return self.rank == 0


def train(config: TrainConfig) -> dict:
    """Train (or resume) and return the training log; the main process writes the run folder."""
    config.check()
    processes = Processes.from_environment()
    device = pick_device(config.device, processes.local_rank)
    with process_group(processes, device):
        return fit(config, processes, device)


def fit(config: TrainConfig, processes: Processes, device: torch.device) -> dict:
    """Set up (or restore) a run, then the training loop: train an epoch, validate, save."""
    run = RunFolder(Path(config.run))
    train_loader, val_loader, sampler = loaders(config, processes, device)
    torch.manual_seed(config.seed)
    model = starting_weights(Path(config.weights), config.preset) if config.weights else build_model(config.preset)
    run_config = describe_run(config, processes, device, model, train_loader, val_loader)
    state, resume = restore_state(config, run, run_config, processes.main)
    run_config["resume"] = str(resume) if resume else None
    if state is not None:
        model = restore_model(state, resume)
    model = model.to(device, memory_format=torch.channels_last)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=config.lr, total_steps=config.epochs * len(train_loader), pct_start=config.warmup_fraction
    )
    start_epoch, best_loss, history = restore_progress(state, optimizer, scheduler)
    criterion = CompositeLoss(config.dice_weight, config.ce_weight, config.mse_weight, config.hierarchy_balance)
    fixed_val = [val_loader.dataset[i] for i in range(min(NUM_VISUALIZED, len(val_loader.dataset)))]
    if processes.main:
        announce(config, run_config, device, start_epoch, resume, run)

    net = model if processes.world == 1 else DistributedDataParallel(model, device_ids=device_ids(device))
    try:
        for epoch in range(start_epoch, config.epochs + 1):
            sampler.set_epoch(epoch)
            started = time.perf_counter()
            entry = train_epoch(net, train_loader, criterion, optimizer, scheduler, device, epoch, config, processes)
            entry["val_loss"], entry["val_metrics"], entry["val_metrics_by_size"] = evaluate(
                model, val_loader, criterion, device, processes.main
            )
            entry["epoch_seconds"] = time.perf_counter() - started
            history.append(entry)
            improved = entry["val_loss"] < best_loss
            best_loss = min(best_loss, entry["val_loss"])
            if processes.main:
                state = {
                    "model": model.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(),
                    "epoch": epoch,
                    "best_val_loss": best_loss,
                    "val_metrics": entry["val_metrics"],
                    "history": history,
                    "rng": {"torch": torch.get_rng_state()},
                    "config": run_config,
                }
                save_epoch(run, state, improved, config.save_period)
                save_visuals(model, fixed_val, device, run.visualizations / f"epoch_{epoch:03d}_val.png", epoch)
                print(
                    f"epoch {epoch}: train loss {entry['train_loss']:.4f}  val loss {entry['val_loss']:.4f}"
                    f"{' (best)' if improved else ''}  {entry['samples_per_second']:.1f} samples/s  "
                    f"{entry['epoch_seconds']:.0f}s\n  val: {format_criteria(entry['val_metrics'])}"
                )
    finally:
        net = None  # freed before the process group is destroyed: see process_group
    if processes.world > 1:
        check_in_sync(model)
    return {"config": run_config, "epochs": history, "best_val_loss": best_loss}


def train_epoch(
    net: torch.nn.Module,
    loader: DataLoader,
    criterion: CompositeLoss,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    device: torch.device,
    epoch: int,
    config: TrainConfig,
    processes: Processes,
) -> dict:
    """One pass over the training split; returns the start of the epoch's log entry."""
    net.train()
    if config.weights:
        freeze_batch_norm(net)
    started, metrics, loss_sum, seen = time.perf_counter(), SpecMetrics(), 0.0, 0
    bar = tqdm(loader, desc=f"epoch {epoch}/{config.epochs}", unit="batch", disable=not processes.main)
    bf16 = uses_bf16(device, config.precision)  # once, not per batch: it reads the CPU's capabilities
    for batch in bar:
        images, f_tensors = to_device(batch, device)
        with autocast(device, bf16):
            heads = net(images)
            loss, _ = criterion(heads, f_tensors)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        scheduler.step()
        metrics.update(heads_to_f_tensor(heads).cpu().numpy(), f_tensors.cpu().numpy())
        loss_sum += loss.item() * len(images)
        seen += len(images)
        running = metrics.compute()
        bar.set_postfix(
            loss=f"{loss_sum / seen:.3f}",
            text_iou=f"{running['text_iou']:.3f}",
            image_iou=f"{running['image_iou']:.3f}",
        )
    seconds = time.perf_counter() - started
    return {
        "epoch": epoch,
        "train_loss": loss_sum / max(seen, 1),
        "train_metrics": metrics.compute(),
        "lr": scheduler.get_last_lr()[0],
        "train_seconds": seconds,
        "samples_per_second": seen * processes.world / seconds,
    }


@torch.no_grad()
def evaluate(
    model: torch.nn.Module, loader: DataLoader, criterion: CompositeLoss, device: torch.device, progress: bool = True
) -> tuple[float, dict[str, float], dict[str, dict[str, float]]]:
    """Mean loss and the spec metrics over a whole split: pooled, and per design size ("WxH")."""
    model.eval()
    metrics, by_size, total, count = SpecMetrics(), {}, 0.0, 0
    bar = tqdm(loader, desc="  val", unit="batch", leave=False, disable=not progress)
    for batch in bar:
        images, f_tensors = to_device(batch, device)
        with autocast(device, device.type == "cuda"):  # on a CPU as the exported fp32 model computes
            heads = model(images)
            loss, _ = criterion(heads, f_tensors)
        total += float(loss) * len(images)
        count += len(images)
        predicted, truth = heads_to_f_tensor(heads).cpu().numpy(), f_tensors.cpu().numpy()
        metrics.update(predicted, truth)
        by_size.setdefault(f"{truth.shape[3]}x{truth.shape[2]}", SpecMetrics()).update(predicted, truth)
        bar.set_postfix(loss=f"{total / count:.3f}")
    return total / max(count, 1), metrics.compute(), {size: part.compute() for size, part in sorted(by_size.items())}


# Set-up


@contextlib.contextmanager
def process_group(processes: Processes, device: torch.device) -> Iterator[None]:
    """Join torchrun's process group for the block; nothing to do for a single process."""
    if processes.world == 1:
        yield
        return
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    if device.type == "cpu":  # share the cores instead of oversubscribing them
        local_world = int(os.environ.get("LOCAL_WORLD_SIZE", processes.world))
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // local_world))
    try:
        yield
    finally:
        # DistributedDataParallel (and its reference cycles) must be freed before its process group, and
        # every rank done with it before any rank tears it down: either left out, a rank aborted now and
        # then under load (std::terminate in gloo's threads; 1 run in 3 without the barrier).
        gc.collect()
        dist.barrier()
        dist.destroy_process_group()


def pick_device(requested: str, local_rank: int) -> torch.device:
    """The requested device, or the best available one for `auto`; a clear error if it is missing."""
    if requested == "auto":
        requested = "cuda" if torch.cuda.is_available() else "mps" if torch.backends.mps.is_available() else "cpu"
    if requested == "cuda":
        if not torch.cuda.is_available():
            raise FTensorError("--device cuda was asked for, but PyTorch sees no CUDA GPU; use --device auto.")
        return torch.device("cuda", local_rank)
    if requested == "mps" and not torch.backends.mps.is_available():
        raise FTensorError("--device mps was asked for, but this PyTorch build has no MPS; use --device auto.")
    return torch.device(requested)


def device_ids(device: torch.device) -> list[int] | None:
    return [device.index] if device.type == "cuda" else None


def loader_workers(requested: int | None, device: torch.device) -> int:
    """Data-loading processes: as asked, else none on a CPU (a sample loads in about a millisecond, and
    worker processes would take cores from the model's threads; see the README's training benchmark)
    and up to 8 per process beside a GPU."""
    if requested is not None:
        return requested
    if device.type == "cpu":
        return 0
    local_world = int(os.environ.get("LOCAL_WORLD_SIZE", "1"))
    return min(8, max(1, (os.cpu_count() or 1) // local_world))


def loaders(
    config: TrainConfig, processes: Processes, device: torch.device
) -> tuple[DataLoader, DataLoader, SizeBatchSampler]:
    degradations = Degradations() if config.degrade else None
    train_set = FTensorDataset(config.data_dir, "train", config.val_fraction, degradations, config.seed)
    val_set = FTensorDataset(config.data_dir, "val", config.val_fraction)
    # The sampler orders data by (seed, epoch) alone, in batches of one design size each.
    sampler = SizeBatchSampler(train_set.sizes, config.batch_size, True, config.seed, processes.world, processes.rank)
    if len(sampler) < 1 or len(val_set) < 1:
        raise FTensorError(
            f"{config.data_dir} has {len(train_set)} training and {len(val_set)} validation samples, "
            f"{len(set(train_set.sizes))} design size(s): too few for a batch of --batch_size {config.batch_size} of "
            f"one size on each of {processes.world} process(es). Generate more with "
            f"`ftensor generate --data_dir {config.data_dir} --num_samples 1000`, or lower --batch_size."
        )
    workers = loader_workers(config.num_workers, device)
    common = {"num_workers": workers, "pin_memory": device.type == "cuda", "persistent_workers": workers > 0}
    train_loader = DataLoader(train_set, batch_sampler=sampler, **common)
    val_loader = DataLoader(val_set, batch_sampler=SizeBatchSampler(val_set.sizes, config.batch_size), **common)
    return train_loader, val_loader, sampler


def freeze_batch_norm(net: torch.nn.Module) -> None:
    """Fine-tuning keeps the weights' BatchNorm statistics, as torchvision's detection models keep their
    backbone's. The shipped weights, trained in batches of 16 on a GPU, score a loss of 0.43 normalised by
    the statistics of batches of 8 on a CPU against 0.33 by their own. One epoch of the quick start's
    fine-tuning that re-estimated them (lr 5e-5) doubled the held-out hierarchy error on backgrounds (0.032 →
    0.073; MSE 0.0050 → 0.0074); with them kept (lr 3e-5 or 1e-4) it stayed at 0.029-0.030 (MSE 0.0050)."""
    for module in net.modules():
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
            module.eval()


def to_device(batch: tuple, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    images, f_tensors = batch
    images = images.to(device, non_blocking=True).contiguous(memory_format=torch.channels_last)
    return images, f_tensors.to(device, non_blocking=True)


def autocast(device: torch.device, bf16: bool) -> torch.autocast:
    """bf16 autocast (no loss scaling needed), or full fp32."""
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16)


def uses_bf16(device: torch.device, precision: str = "auto") -> bool:
    """Whether training steps run in bf16 autocast. `auto`: on CUDA, and on CPUs that compute bf16 natively
    (AVX512-BF16 or AMX, with PyTorch's AVX-512 kernels in use): a `small` step at 128 px took 137 ms
    there against 224 in fp32 (Zen 5). Elsewhere bf16 is emulated and slower: 2.5× with AVX-512 alone,
    10× with AVX2, so fp32."""
    if precision != "auto":
        return precision == "bf16"
    if device.type != "cpu":
        return device.type == "cuda"
    native = torch.cpu.get_capabilities() if hasattr(torch.cpu, "get_capabilities") else {}
    return (
        bool(native.get("avx512_bf16") or native.get("amx_bf16"))
        and torch.backends.cpu.get_cpu_capability() == "AVX512"
        and torch.ops.mkldnn._is_mkldnn_bf16_supported()  # False when ONEDNN_MAX_CPU_ISA holds oneDNN below it
    )


def describe_run(
    config: TrainConfig,
    processes: Processes,
    device: torch.device,
    model: torch.nn.Module,
    train_loader: DataLoader,
    val_loader: DataLoader,
) -> dict:
    """The run's full config, as saved in its checkpoints and log."""
    return {
        **asdict(config),
        "num_workers": train_loader.num_workers,
        "image_size": train_loader.dataset.image_size,
        "spec_version": SPEC_VERSION,
        "world_size": processes.world,
        "device_type": device.type,
        "bf16": uses_bf16(device, config.precision),
        "parameters": count_parameters(model),
        "train_samples": len(train_loader.dataset),
        "val_samples": len(val_loader.dataset),
        "dataset": fingerprint(dataset_paths(Path(config.data_dir))["info"]),
        "start": fingerprint(Path(config.weights)) if config.weights else "random",
    }


def fingerprint(path: Path) -> str:
    """A file's identity wherever it lies: the start of its sha256. Of a dataset's `dataset.json` (seed,
    sample count, sizes, variety and the statistics of what was drawn) and of --weights, so that a rerun
    pointed at other data or weights is refused rather than continued on them."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def starting_weights(path: Path, preset: str) -> torch.nn.Module:
    """The model of a checkpoint to fine-tune (--weights); it must be of the run's preset."""
    if not path.is_file():
        raise FTensorError(
            f"--weights {path} does not exist: pass a checkpoint of `ftensor train` (a clone of ftensor ships "
            "weights/small_128.pth)."
        )
    state = load_checkpoint(path)
    if state["config"]["preset"] != preset:
        raise FTensorError(
            f"--weights {path} holds a {state['config']['preset']!r} model, not {preset!r}: "
            f"pass --preset {state['config']['preset']}, or weights of the {preset!r} preset."
        )
    return restore_model(state, path)


def announce(
    config: TrainConfig, run_config: dict, device: torch.device, start_epoch: int, resume: Path | None, run: RunFolder
) -> None:
    if start_epoch > config.epochs:
        print(
            f"{resume} ends the {config.epochs}-epoch schedule: nothing to train. To train again from "
            f"scratch, choose another --run (or delete {run.checkpoints})."
        )
        return
    print(
        f"training {config.preset} ({run_config['parameters']:,} parameters) on {device} × "
        f"{run_config['world_size']} in {'bf16 autocast' if run_config['bf16'] else 'fp32'}, "
        f"{run_config['train_samples']} train / {run_config['val_samples']} val "
        f"samples at {run_config['image_size']}px, epochs {start_epoch}..{config.epochs}, into {run.root}"
        + (f", starting from {config.weights}" if config.weights and not resume else "")
        + (f", resuming from {resume}" if resume else "")
    )


# Restore and save


def restore_state(
    config: TrainConfig, run: RunFolder, run_config: dict, verbose: bool
) -> tuple[dict | None, Path | None]:
    """(state, its path) to continue from: the run's own `last`, else --resume, else nothing. The run's own
    state comes first: rerunning a command with --resume after a crash continues where it stopped, and a
    --run that holds another run is refused (check_same_run) rather than overwritten. A `last` that cannot
    be read (cut short where the file system lost a write) falls back to `best`: any full state of the run
    continues it exactly, only from an earlier epoch."""
    path = run.last if run.last.is_file() else Path(config.resume) if config.resume else None
    if path is None:
        return None, None
    try:
        state = load_checkpoint(path)
    except FTensorError as error:
        if path != run.last or not run.best.is_file():
            raise
        if verbose:
            print(f"{error} Resuming from {run.best} instead.")
        path, state = run.best, load_checkpoint(run.best)
    check_resumable(state, run_config, path)
    return state, path


def check_resumable(state: dict, run_config: dict, path: Path) -> None:
    """A checkpoint to continue from holds the full training state of the same run."""
    if "optimizer" not in state:
        raise FTensorError(
            f"{path} holds weights only (a per-epoch checkpoint): resume from the run's "
            "checkpoints/encoder_last.pth or encoder_best.pth, which hold the optimiser state too."
        )
    check_same_run(state["config"], run_config, path)


def saved_settings(saved: dict) -> dict:
    """The settings that shaped a checkpoint's weights (RUN_SETTINGS), from its config; a setting that a
    checkpoint of an older release lacks had its default there."""
    return {name: saved.get(name, getattr(TrainConfig, name, None)) for name in RUN_SETTINGS}


def check_same_run(saved: dict, run_config: dict, path: Path) -> None:
    """A resumed run must continue the same run: every setting that shapes its weights must match."""
    saved = saved_settings(saved)
    different = [
        f"{name} {saved[name]!r} there, {run_config[name]!r} now"
        for name in RUN_SETTINGS
        if saved[name] != run_config[name] and saved[name] is not None  # None: its release did not record it
    ]
    if different:
        raise FTensorError(
            f"{path} belongs to a run with other settings ({'; '.join(different)}). Resume it with the same "
            "flags and data, or train into another --run."
        )


def restore_progress(
    state: dict | None, optimizer: torch.optim.Optimizer, scheduler: torch.optim.lr_scheduler.LRScheduler
) -> tuple[int, float, list[dict]]:
    """(first epoch to train, best val loss so far, history): a fresh start, or where `state` left off."""
    if state is None:
        return 1, math.inf, []
    optimizer.load_state_dict(state["optimizer"])  # moves its tensors next to the parameters
    scheduler.load_state_dict(state["scheduler"])
    torch.set_rng_state(state["rng"]["torch"])
    return state["epoch"] + 1, state["best_val_loss"], state["history"]


def save_epoch(run: RunFolder, state: dict, improved: bool, save_period: int) -> None:
    """An epoch's checkpoints, log and curves. `last` is written last: a rerun resumes from it, so a crash
    before it leaves the previous epoch's complete set to resume from."""
    if improved:
        save_checkpoint(state, run.best)
    if save_period and state["epoch"] % save_period == 0:
        save_checkpoint({k: state[k] for k in ("model", "epoch", "val_metrics", "config")}, run.epoch(state["epoch"]))
    log = {"config": state["config"], "epochs": state["history"], "best_val_loss": state["best_val_loss"]}
    atomic_write_bytes(run.log, json.dumps(log, indent=1).encode())
    from ftensor.training.plots import training_curves

    training_curves(state["history"], run.curves)
    save_checkpoint(state, run.last)


@torch.no_grad()
def save_visuals(model: torch.nn.Module, samples: list, device: torch.device, path: Path, epoch: int) -> None:
    from ftensor.training.plots import prediction_grid

    model.eval()
    pixels, truth, predicted = [], [], []
    for image, f_tensor in samples:  # one at a time: the samples may differ in size
        batch = image[None].to(device).contiguous(memory_format=torch.channels_last)
        predicted.append(heads_to_f_tensor(model(batch))[0].cpu().numpy())
        pixels.append((image.permute(1, 2, 0) * 255).round().to(torch.uint8).numpy())
        truth.append(f_tensor.numpy())
    prediction_grid(pixels, truth, predicted, path, f"epoch {epoch}: fixed validation samples")


def check_in_sync(model: torch.nn.Module) -> None:
    """After DDP training, every rank must hold the same weights (a cheap checksum all-gather)."""
    checksum = torch.stack([p.detach().double().sum() for p in model.parameters()]).sum().cpu().reshape(1)
    gathered = [torch.zeros_like(checksum) for _ in range(dist.get_world_size())]
    dist.all_gather(gathered, checksum)
    if len({float(g) for g in gathered}) != 1:
        raise RuntimeError(f"DDP ranks diverged: weight checksums {[float(g) for g in gathered]}")
    if dist.get_rank() == 0:
        print(f"weights identical on all {dist.get_world_size()} ranks (checksum {float(checksum):.6f})")


# Validation only


def format_criteria(metrics: dict[str, float]) -> str:
    met = criteria_met(metrics)
    return "  ".join(
        f"{name} {metrics[name]:.4f} ({op} {threshold}: {'met' if met[name] else 'UNMET'})"
        for name, op, threshold in SUCCESS_CRITERIA
    )


def validate(
    checkpoint: Path,
    data_dir: str,
    batch_size: int = 8,
    num_workers: int | None = None,
    device: str = "auto",
    val_fraction: float | None = None,
) -> dict:
    """Evaluate a checkpoint on the val split only (the split it was trained with, unless
    `val_fraction` is given); returns loss and spec metrics."""
    state = load_checkpoint(checkpoint)
    target_device = pick_device(device, 0)
    trained = saved_settings(state["config"])
    dataset = FTensorDataset(data_dir, "val", val_fraction or trained["val_fraction"])
    model = restore_model(state, checkpoint).to(target_device, memory_format=torch.channels_last)
    if int(trained["image_size"]) != dataset.image_size:
        raise FTensorError(
            f"{checkpoint} was trained on designs of reference size {trained['image_size']}px, "
            f"but {data_dir} holds {dataset.image_size}px ones; `ftensor val` scores a model on any dataset."
        )
    sampler = SizeBatchSampler(dataset.sizes, batch_size)
    loader = DataLoader(dataset, batch_sampler=sampler, num_workers=loader_workers(num_workers, target_device))
    criterion = CompositeLoss(
        trained["dice_weight"], trained["ce_weight"], trained["mse_weight"], trained["hierarchy_balance"]
    )
    loss, metrics, by_size = evaluate(model, loader, criterion, target_device)
    return {
        "checkpoint": str(checkpoint),
        "epoch": state["epoch"],
        "val_samples": len(dataset),
        "val_loss": loss,
        "metrics": metrics,
        "by_size": by_size,
        "criteria_met": criteria_met(metrics),
        "all_criteria_met": bool(np.all(list(criteria_met(metrics).values()))),
    }
