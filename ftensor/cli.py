"""`ftensor` command line: one command, subcommands, sensible defaults.

Each subcommand lives beside the code it drives, in a module with `add_arguments(parser)` and
`run(args) -> int`. Those modules import heavy libraries (torch, onnxruntime) only inside `run`, so
`ftensor --help` stays fast and the torch-free commands work without torch.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from ftensor import __version__
from ftensor.errors import FTensorError

# (subcommand, module, one-line help)
COMMANDS = (
    ("generate", "ftensor.data.cli_generate", "generate a synthetic P_Image/F_Tensor dataset"),
    ("dataset-stats", "ftensor.data.cli_stats", "summarise and verify a dataset directory"),
    ("train", "ftensor.training.cli", "train the U-Net encoder, or --validate a checkpoint"),
    ("export", "ftensor.export.cli", "export a checkpoint to ONNX and check parity (optionally int8 too)"),
    ("parity", "ftensor.export.cli_parity", "check that an ONNX file computes what a checkpoint computes"),
    ("val", "ftensor.cli_val", "score a checkpoint or ONNX model on any labelled dataset of the spec"),
    ("predict", "ftensor.serving.cli_predict", "predict F_Tensors for images with an exported model (no torch)"),
    ("serve", "ftensor.serving.cli_serve", "serve F_Tensor predictions over HTTP with BentoML (no torch)"),
)
# Optional dependencies and the extra that installs each, for a clear message when one is missing.
EXTRA_OF_MODULE = {
    "torch": "train",
    "matplotlib": "train",
    "onnx": "export",
    "onnxscript": "export",
    "onnxruntime": "serve",
    "bentoml": "serve",
}


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows each flag's default, except None: those flags say in words what they fall back to."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        return action.help if action.default is None else super()._get_help_string(action)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ftensor",
        description="Map design images (P_Image) to per-pixel F_Tensors: generate, train, export, serve.",
    )
    parser.add_argument("--version", action="version", version=f"ftensor {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, module_name, help_text in COMMANDS:
        module = importlib.import_module(module_name)
        command = sub.add_parser(
            name,
            help=help_text,
            description=(module.__doc__ or help_text).strip(),
            formatter_class=HelpFormatter,
        )
        module.add_arguments(command)
        command.set_defaults(handler=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except FTensorError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as error:
        extra = EXTRA_OF_MODULE.get((error.name or "").split(".")[0])
        if extra is None:
            raise
        print(
            f"error: `ftensor {args.command}` needs {error.name}, which is not installed here: "
            f"pip install -e '.[{extra}]' in the ftensor checkout",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        print("interrupted: rerun the same command to resume where it stopped", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
