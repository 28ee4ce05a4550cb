"""Serve F_Tensor predictions over HTTP with BentoML (onnxruntime inside, no PyTorch).

Endpoints: POST /predict (multipart field `image`; optional `size` = original|model), POST /info,
GET /livez, /readyz, /metrics, the Swagger UI at / and the OpenAPI schema at /docs.json. Equivalent to
`FTENSOR_MODEL=M bentoml serve ftensor.serving.service:FTensorService`.
"""

from __future__ import annotations

import argparse

from ftensor.runs import add_run_argument


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_run_argument(parser)
    parser.add_argument("--model", default=None, help="ONNX file (default: RUN/exports/encoder.onnx)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (0.0.0.0 to accept remote clients)")
    parser.add_argument("--port", type=int, default=3000, help="HTTP port")
    parser.add_argument(
        "--workers", type=int, default=1, help="worker processes, each running the model on cores ÷ N threads"
    )


def run(args: argparse.Namespace) -> int:
    import os
    from pathlib import Path

    from ftensor.errors import FTensorError
    from ftensor.runs import RunFolder, chosen
    from ftensor.serving.runtime import Runtime

    model = chosen(args.model, RunFolder(Path(args.run)).onnx).resolve()
    Runtime(model)  # fail here, with a clear message, rather than inside a server worker
    if args.workers < 1:
        raise FTensorError(f"--workers must be at least 1, got {args.workers}.")
    check_port(args.host, args.port)
    os.environ.update(FTENSOR_MODEL=str(model), FTENSOR_WORKERS=str(args.workers), BENTOML_DO_NOT_TRACK="True")
    import bentoml

    print(f"serving {model} on http://{args.host}:{args.port} (Ctrl-C to stop)")
    bentoml.serve("ftensor.serving.service:FTensorService", host=args.host, port=args.port, blocking=True)
    return 0


def check_port(host: str, port: int) -> None:
    """Refuse a port that cannot be bound, before the server starts and fails with a traceback."""
    import os
    import socket

    from ftensor.errors import FTensorError

    try:
        with socket.create_server((host, port)):
            pass
    except OSError as error:
        raise FTensorError(
            f"cannot listen on {host}:{port} ({os.strerror(error.errno)}): choose another --port "
            "(or stop the server using it), or a --host address of this machine."
        ) from None
