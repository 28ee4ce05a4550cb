"""Train the U-Net encoder on a generated dataset, or evaluate a checkpoint with --validate.

Writes into the run folder (--run, default runs/default): checkpoints/encoder_best.pth (best val
loss) and encoder_last.pth (latest epoch), both with the optimiser state; checkpoints/encoder_epoch_NNN.pth
(weights only, every --save_period epochs); visualizations/encoder/epoch_NNN_val.png;
logs/encoder_training_log.json and logs/training_curves.png. Rerun the same command to resume.
Several GPUs or machines: `torchrun --nproc_per_node N -m ftensor.cli train --output_dir runs/NAME ...`
(only rank 0 writes; under torchrun spell --run as --output_dir, since torchrun reads --run as its --run-path).
"""

from __future__ import annotations

import argparse

from ftensor.data.layout import DEFAULT_DATA_DIR
from ftensor.runs import add_run_argument


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data_dir", default=DEFAULT_DATA_DIR, help="dataset from `ftensor generate`")
    add_run_argument(parser, "--output_dir")
    parser.add_argument("--preset", default="unet", help="model width: unet (64, ≈31M params), small (16), tiny (8)")
    parser.add_argument("--epochs", type=int, default=50, help="epochs of the one-cycle schedule")
    parser.add_argument("--batch_size", type=int, default=8, help="batch size per process")
    parser.add_argument("--lr", type=float, default=1e-3, help="peak learning rate (AdamW, one-cycle schedule)")
    parser.add_argument(
        "--num_workers",
        type=int,
        default=None,
        help="data-loading worker processes (default: 0 on a CPU, where workers take cores from the model; "
        "up to 8 per process beside a GPU)",
    )
    parser.add_argument(
        "--val_fraction",
        type=float,
        default=None,
        help="share of samples in the val split (default: 0.1; with --validate, the checkpoint's own)",
    )
    parser.add_argument("--dice_weight", type=float, default=1.0, help="weight of Dice + BCE on the masks")
    parser.add_argument("--ce_weight", type=float, default=1.0, help="weight of cross-entropy on colour")
    parser.add_argument("--mse_weight", type=float, default=1.0, help="weight of MSE on hierarchy")
    parser.add_argument(
        "--hierarchy_balance",
        type=float,
        default=0.0,
        help="share of the hierarchy MSE averaged per role rather than per pixel, 0 to 1 (0.5 cut the error on "
        "buttons 3×; see the README)",
    )
    parser.add_argument(
        "--degrade",
        action="store_true",
        help="train on captured-looking copies (JPEG, blur, resampling, colour noise; labels unchanged)",
    )
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda", "mps"), help="where to train")
    parser.add_argument(
        "--precision",
        default="auto",
        choices=("auto", "fp32", "bf16"),
        help="of the training steps (default auto: bf16 autocast on CUDA and on CPUs with native bf16, "
        "AVX512-BF16 or AMX; fp32 elsewhere). Validation and the exported model are fp32 on a CPU",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of weights and data order")
    parser.add_argument(
        "--save_period", type=int, default=1, help="keep a weights-only checkpoint every N epochs (0: none)"
    )
    parser.add_argument(
        "--resume",
        default=None,
        metavar="PATH",
        help="continue exactly from this full checkpoint into --run (a rerun into the same --run resumes by itself)",
    )
    parser.add_argument(
        "--weights",
        default=None,
        metavar="PATH",
        help="start from these weights and fine-tune them (a checkpoint of `ftensor train` of the same --preset; "
        "the repository ships weights/small_128.pth, see weights/README.md)",
    )
    parser.add_argument("--validate", action="store_true", help="only evaluate --checkpoint on the val split")
    parser.add_argument(
        "--checkpoint", default=None, help="checkpoint for --validate (default: RUN/checkpoints/encoder_best.pth)"
    )
    parser.add_argument("--json", dest="json_path", default=None, metavar="PATH", help="with --validate: write metrics")


def run(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from ftensor.files import atomic_write_bytes
    from ftensor.runs import RunFolder, chosen
    from ftensor.training.train import TrainConfig, format_criteria, train, validate

    if args.validate:
        checkpoint = chosen(args.checkpoint, RunFolder(Path(args.run)).best)
        result = validate(checkpoint, args.data_dir, args.batch_size, args.num_workers, args.device, args.val_fraction)
        print(f"{result['checkpoint']} (epoch {result['epoch']}) on {result['val_samples']} val samples")
        print(f"val loss {result['val_loss']:.4f}\n{format_criteria(result['metrics'])}")
        for size, metrics in result["by_size"].items():
            print(f"  {size:>9}: {format_criteria(metrics)}")
        if args.json_path:
            atomic_write_bytes(Path(args.json_path), json.dumps(result, indent=1).encode())
        return 0
    fields = TrainConfig.__dataclass_fields__
    train(TrainConfig(**{k: v for k, v in vars(args).items() if k in fields and v is not None}))
    return 0
