"""int8 accuracy on the kernels a file will meet: this CPU's, and AVX2 without VNNI (through valgrind).

    .venv/bin/python benchmarks/bench_int8_kernels.py --run runs/quickstart --data_dir data/quickstart_128

Quantises the run's fp32 export twice, with 8-bit and with 7-bit weights (ftensor's choice), calibrated
as `ftensor export --int8` does, and scores fp32 and both int8 files on the first --images val images:
natively, and on onnxruntime's AVX2 kernels under valgrind (see ftensor/export/kernels.py; seconds an
image). Prints the CPU and a markdown table for the README.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from machine import describe

from ftensor.data.reader import split_images
from ftensor.export.kernels import run_on_avx2_kernels
from ftensor.export.parity import cpu_session, in_batches, judge_int8, run_onnx
from ftensor.export.quantize import quantize_int8
from ftensor.runs import RunFolder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", default="runs/quickstart", help="run folder with exports/encoder.onnx")
    parser.add_argument("--data_dir", default="data/quickstart_128", help="the run's dataset")
    parser.add_argument("--images", type=int, default=64, help="val images scored")
    parser.add_argument("--val_fraction", type=float, default=0.1, help="the run's val fraction")
    args = parser.parse_args()
    fp32 = RunFolder(Path(args.run)).onnx
    data = Path(args.data_dir)
    images, truth = split_images(data, args.images, "val", args.val_fraction)
    calibration = split_images(data, 64, "train", args.val_fraction)[0]
    session = cpu_session(fp32)
    reference = in_batches(lambda b: run_onnx(session, b)[:1], images, 8)[0]
    rows = []
    with tempfile.TemporaryDirectory(prefix="ftensor-bench-") as scratch:
        for bits in (8, 7):
            int8 = quantize_int8(fp32, Path(scratch) / f"int8_{bits}.onnx", calibration, weight_bits=bits)
            int8_session = cpu_session(int8)
            native = in_batches(lambda b, s=int8_session: run_onnx(s, b)[:1], images, 8)[0]
            for kernels, f_tensors in (("this CPU", native), ("AVX2 (valgrind)", run_on_avx2_kernels(int8, images))):
                rows.append((f"{bits}-bit", kernels, judge_int8(reference, f_tensors, truth)))
    print(f"\n{describe()}\n{fp32}, {len(images)} val images of {data}\n")
    print("| int8 weights | kernels | text IoU | image IoU | colour acc. | largest change vs fp32 | mask agreement |")
    print("|---|---|---|---|---|---|---|")
    fp32_metrics = rows[0][2]["metrics"]["fp32"]
    print(
        f"| fp32 | this CPU | {fp32_metrics['text_iou']:.4f} | {fp32_metrics['image_iou']:.4f} | "
        f"{fp32_metrics['color_accuracy']:.4f} | – | – |"
    )
    for bits, kernels, result in rows:
        metrics, agree = result["metrics"]["int8"], result["mask_agreement"]
        print(
            f"| {bits} | {kernels} | {metrics['text_iou']:.4f} | {metrics['image_iou']:.4f} | "
            f"{metrics['color_accuracy']:.4f} | {max(result['metric_deltas'].values()):.4f} "
            f"({'passes' if result['passed'] else 'fails'}) | text {100 * agree['text']:.2f} %, "
            f"image {100 * agree['image']:.2f} % |"
        )


if __name__ == "__main__":
    main()
