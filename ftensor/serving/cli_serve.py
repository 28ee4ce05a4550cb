"""Serve F_Tensor predictions over HTTP with BentoML (onnxruntime inside, no PyTorch).

Endpoints: POST /predict (multipart field `image`; optional `size` = original|model), POST /info,
GET /livez, /readyz, /metrics, and the OpenAPI docs at /docs. Equivalent to
`FTENSOR_MODEL=M bentoml serve ftensor.serving.service:FTensorService`.
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default="exports/encoder.onnx", help="ONNX file from `ftensor export`")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (0.0.0.0 to accept remote clients)")
    parser.add_argument("--port", type=int, default=3000, help="HTTP port")
    parser.add_argument("--workers", type=int, default=1, help="API worker processes (decoding, checks)")


def run(args: argparse.Namespace) -> int:
    import os
    from pathlib import Path

    from ftensor.errors import FTensorError
    from ftensor.serving.runtime import Runtime

    model = Path(args.model).resolve()
    Runtime(model)  # fail here, with a clear message, rather than inside a server worker
    if args.workers < 1:
        raise FTensorError(f"--workers must be at least 1, got {args.workers}.")
    os.environ.update(FTENSOR_MODEL=str(model), FTENSOR_WORKERS=str(args.workers), BENTOML_DO_NOT_TRACK="True")
    import bentoml

    print(f"serving {model} on http://{args.host}:{args.port} (Ctrl-C to stop)")
    bentoml.serve("ftensor.serving.service:FTensorService", host=args.host, port=args.port, blocking=True)
    return 0
