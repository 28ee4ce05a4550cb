"""HTTP serving throughput and latency against the in-process runtime, same model, same images.

    .venv/bin/python benchmarks/bench_serve.py --model runs/quickstart/exports/encoder.onnx
    .venv/bin/python benchmarks/bench_serve.py --preset unet --image_size 256 --requests 48

In-process: `Runtime.predict` on PNG bytes (decode, resize, onnxruntime, resize back), one image after
another: what a Python program gets with no server. HTTP: the real BentoML service of `ftensor serve`
on this machine, with C client threads each posting PNG uploads through `FTensorClient` (which also
decodes every answer), for C = 1, 4 and 16. The two are measured in turn, --rounds times, and each
row reports the median round (images/s, p50/p99 latency) and all its errors, with HTTP throughput as a
share of in-process: on a shared host one in-process measurement varied from 87 to 110 images/s
between runs, which made a single-round ratio swing from 70 % to 102 %. With --preset, an untrained
model of that preset is exported first (needs torch; speed does not depend on the weights); otherwise
torch is not needed.
"""

from __future__ import annotations

import argparse
import os
import socket
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.request import urlopen

import numpy as np
from machine import describe

from ftensor.client import FTensorClient
from ftensor.data import generate_dataset
from ftensor.serving.runtime import Runtime


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urlopen(f"{url}/readyz", timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"{url} was not ready within {seconds} s")


def measure(call, payloads: list[bytes], requests: int, concurrency: int) -> dict:
    """Throughput and latency of `call` over `requests` payloads sent by `concurrency` threads."""

    def one(k: int) -> float | None:
        start = time.perf_counter()
        try:
            call(payloads[k % len(payloads)])
        except Exception:  # counted, not raised: the benchmark reports errors
            return None
        return time.perf_counter() - start

    for k in range(concurrency):  # warm-up
        one(k)
    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        latencies = list(pool.map(one, range(requests)))
    elapsed = time.perf_counter() - start
    ok = np.array([t for t in latencies if t is not None])
    return {
        "throughput": len(ok) / elapsed,
        "p50": 1000 * float(np.percentile(ok, 50)),
        "p99": 1000 * float(np.percentile(ok, 99)),
        "errors": len(latencies) - len(ok),
    }


def export_untrained(preset: str, image_size: int, folder: str) -> Path:
    from ftensor.export.onnx import export_graph, model_metadata
    from ftensor.model import build_model, count_parameters

    model = build_model(preset).eval()
    metadata = model_metadata(image_size, preset, count_parameters(model), None)
    return export_graph(model, Path(folder) / f"{preset}.onnx", image_size, metadata)


def serve_and_measure(
    runtime: Runtime, payloads: list[bytes], requests: int, levels: list[int], rounds: int
) -> list[tuple]:
    """In-process, then the real server (it reads the model from FTENSOR_MODEL) at each concurrency, in
    turn for `rounds` rounds; per row the median of each figure over the rounds and the sum of errors."""
    import bentoml

    results: dict[tuple[str, int], list[dict]] = {}
    with bentoml.serve("ftensor.serving.service:FTensorService", host="127.0.0.1", port=free_port()) as server:
        wait_ready(server.url)
        client = FTensorClient(server.url)
        for _ in range(rounds):
            results.setdefault(("in-process runtime", 1), []).append(measure(runtime.predict, payloads, requests, 1))
            for concurrency in levels:
                result = measure(client.predict, payloads, requests, concurrency)
                results.setdefault(("HTTP (BentoML)", concurrency), []).append(result)
    return [
        (
            path,
            concurrency,
            {
                **{key: float(np.median([r[key] for r in runs])) for key in ("throughput", "p50", "p99")},
                "errors": sum(r["errors"] for r in runs),
            },
        )
        for (path, concurrency), runs in results.items()
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="runs/quickstart/exports/encoder.onnx", help="ONNX file to serve")
    parser.add_argument("--preset", default=None, help="serve an untrained model of this preset instead")
    parser.add_argument("--image_size", type=int, default=256, help="with --preset: the model's image size")
    parser.add_argument("--requests", type=int, default=400, help="requests per measurement")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--rounds", type=int, default=3, help="in-process and HTTP measured in turn this often")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ftensor-bench-") as scratch:
        model = Path(args.model) if args.preset is None else export_untrained(args.preset, args.image_size, scratch)
        os.environ.update(FTENSOR_MODEL=str(model.resolve()), BENTOML_DO_NOT_TRACK="True")
        runtime = Runtime(model)
        square = ((runtime.image_size, runtime.image_size),)
        generate_dataset(Path(scratch) / "data", 32, seed=1, progress=False, sizes=square)
        payloads = [p.read_bytes() for p in sorted(Path(scratch, "data", "images").glob("*.png"))]
        rows = serve_and_measure(runtime, payloads, args.requests, args.concurrency, args.rounds)
    baseline = rows[0][2]["throughput"]
    meta = runtime.metadata
    print(f"\n{describe()}")
    print(
        f"model {meta.get('preset')} at {runtime.image_size}px ({model.name}), "
        f"{args.requests} requests of {runtime.image_size}px PNG designs per row and round, median of "
        f"{args.rounds} rounds\n"
    )
    print("| path | concurrency | images/s | p50 ms | p99 ms | errors | throughput vs in-process |")
    print("|---|---|---|---|---|---|---|")
    for path, concurrency, r in rows:
        print(
            f"| {path} | {concurrency} | {r['throughput']:.1f} | {r['p50']:.1f} | {r['p99']:.1f} | {r['errors']} | "
            f"{100 * r['throughput'] / baseline:.0f}% |"
        )


if __name__ == "__main__":
    main()
