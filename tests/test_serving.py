"""Torch-free inference: the runtime on any image, `ftensor predict`, and the real BentoML server over HTTP."""

from __future__ import annotations

import asyncio
import http.client
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.error import HTTPError
from urllib.request import Request, urlopen

import numpy as np
import pytest
from PIL import Image

from ftensor.cli import main
from ftensor.client import FTensorClient, FTensorServerError, error_message, multipart_body
from ftensor.errors import FTensorError
from ftensor.serving.runtime import ImageError, Runtime, choose_providers, open_image
from ftensor.spec import decode_array

ROOT = Path(__file__).resolve().parents[1]


def encode(image: Image.Image, fmt: str = "PNG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url: str, process: subprocess.Popen | None = None, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process is None or process.poll() is None, "the server exited while starting"
        try:
            with urlopen(f"{url}/readyz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{url} was not ready within {seconds} s")


@pytest.fixture(scope="module")
def runtime(exported):
    return Runtime(exported)


@pytest.fixture(scope="module")
def design(dataset) -> Image.Image:
    """The dataset's first square design."""
    squares = (Image.open(path) for path in sorted((dataset / "images").glob("*.png")))
    return next(image for image in squares if image.size == (64, 64)).convert("RGB")


@pytest.fixture(scope="module")
def bad_uploads(design) -> dict[str, tuple[bytes, str]]:
    """Uploads that must be refused, each with a phrase its error message must hold."""
    good = encode(design)
    return {
        "empty": (b"", "empty"),
        "not an image": (b"%PDF-1.4 definitely not pixels", "not a readable image"),
        "truncated": (good[: len(good) // 2], "truncated or corrupt"),
        "bomb": (encode(Image.new("L", (10_000, 6_000))), "the limit is"),
        "aspect": (encode(Image.new("RGB", (2_100, 100))), "aspect ratio"),
        "icon": (encode(Image.new("RGB", (32, 32), "red"), "ICO"), "of an accepted format"),
        "frameless GIF": (b"GIF89a\x10\x00\x10\x00\x00\x00\x00\x3b", "not a readable image"),
    }


def test_runtime_predicts_the_spec_encoding_at_original_or_model_size(runtime, design):
    prediction = runtime.predict(design, probabilities=True, original_size=False)
    f_tensor = prediction.f_tensor
    assert f_tensor.shape == (4, 64, 64) and f_tensor.dtype == np.uint8
    assert set(np.unique(f_tensor[0])) <= {0, 1} and f_tensor[2].max() < 12
    # Classes and hierarchy vary, so the comparisons below are between varied maps (the fixture's briefly trained
    # tiny model may mark no text or picture on this design; the masks' encoding has tests of its own).
    assert len(np.unique(f_tensor[2])) > 1 and len(np.unique(f_tensor[3])) > 1
    probs = prediction.probabilities
    assert {k: v.shape for k, v in probs.items()} == {
        "text_prob": (1, 64, 64),
        "image_prob": (1, 64, 64),
        "color_prob": (12, 64, 64),
        "hierarchy": (1, 64, 64),
    }
    assert np.array_equal(probs["color_prob"].argmax(0), f_tensor[2])
    assert np.array_equal(np.rint(probs["hierarchy"][0] * 255), f_tensor[3])
    # A tall image is read at its own proportions (shorter side 64, never squashed), and at its own size the
    # channels are the model-scale ones resized by nearest neighbour.
    tall = design.resize((128, 192))
    at_original = runtime.predict(tall).f_tensor
    at_model = runtime.predict(tall, original_size=False).f_tensor
    assert at_original.shape == (4, 192, 128) and at_model.shape == (4, 96, 64)
    assert np.array_equal(at_original[:, ::2, ::2], at_model)


def test_runtime_accepts_any_image_mode(runtime, design, tmp_path):
    def predict(image: Image.Image) -> np.ndarray:
        return runtime.predict(image).f_tensor

    base = predict(design)
    assert np.array_equal(predict(design.convert("RGBA")), base)
    transparent = design.convert("RGBA")
    transparent.putalpha(0)
    assert np.array_equal(predict(transparent), predict(Image.new("RGB", design.size, "white")))
    grey = design.convert("L")
    assert np.array_equal(predict(grey), predict(grey.convert("RGB")))
    sixteen_bit = Image.fromarray(np.asarray(grey).astype(np.uint16) * 257)
    assert sixteen_bit.mode.startswith("I;16") and np.array_equal(predict(sixteen_bit), predict(grey))
    # A dark 16-bit grey (every pixel under 256 of 65535) is near black, whichever mode Pillow opens it in.
    dark = np.asarray(grey).astype(np.int32)
    for mode, fmt in (("I", "TIFF"), ("I;16", "PNG")):
        stored = encode(Image.fromarray(dark.astype(np.uint16 if mode == "I;16" else np.int32)), fmt)
        assert Image.open(io.BytesIO(stored)).mode == mode
        assert np.asarray(open_image(stored)).max() <= 1, f"{mode}: 255/65535 is black, not 257× brighter"
    palette = design.quantize(64)
    assert np.array_equal(predict(palette), predict(palette.convert("RGB")))
    # EXIF orientation 6: stored landscape, shown rotated 90° clockwise.
    landscape = design.resize((96, 64))
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "rotated.jpg"
    path.write_bytes(encode(landscape, "JPEG", exif=exif, quality=95))
    rotated = runtime.predict(path).f_tensor
    assert rotated.shape == (4, 96, 64)
    assert np.array_equal(rotated, predict(Image.open(path).convert("RGB").transpose(Image.Transpose.ROTATE_270)))


def test_bad_images_models_and_providers_are_refused_clearly(bad_uploads, tmp_path):
    for data, phrase in bad_uploads.values():
        with pytest.raises(ImageError, match=phrase):
            open_image(data)
    with pytest.raises(FTensorError, match="model not found"):
        Runtime(tmp_path / "missing.onnx")
    (tmp_path / "junk.onnx").write_bytes(b"junk")
    with pytest.raises(FTensorError, match="not a loadable ONNX model"):
        Runtime(tmp_path / "junk.onnx")
    with pytest.raises(FTensorError, match="not available here"):
        choose_providers(["NoSuchExecutionProvider"])
    import onnxruntime as ort

    chosen = choose_providers()  # the best this build offers, CPU last: a GPU box or a Mac has more
    assert chosen and set(chosen) <= set(ort.get_available_providers())
    assert "CPUExecutionProvider" not in chosen or chosen[-1] == "CPUExecutionProvider"


def make_inputs(dataset: Path, root: Path, design: Image.Image) -> dict[str, Path]:
    """A folder of mixed inputs: dataset PNGs, a JPEG and an RGBA PNG of other sizes, junk, a text file."""
    (root / "sub").mkdir(parents=True)
    images = {}
    for k in range(3):
        images[f"{k:06d}"] = Path(shutil.copy(dataset / "images" / f"{k:06d}.png", root))
    images["sub/photo"] = root / "sub" / "photo.jpg"
    images["sub/photo"].write_bytes(encode(design.resize((80, 48)), "JPEG"))
    images["sub/logo"] = root / "sub" / "logo.png"
    images["sub/logo"].write_bytes(encode(design.resize((100, 70)).convert("RGBA")))
    (root / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n but then nothing")
    (root / "notes.txt").write_text("not an input")
    return images


def test_predict_writes_each_image_resumes_and_reports_unreadable_ones(
    runtime, exported, dataset, design, tmp_path, capsys
):
    images = make_inputs(dataset, tmp_path / "in", design)
    out = tmp_path / "out"
    command = ["predict", "--model", str(exported), "--input", str(tmp_path / "in"), "--output", str(out)]
    assert main([*command, "--batch_size", "2", "--save_viz"]) == 0
    assert "wrote 5 F_Tensors" in capsys.readouterr().out
    for name, path in images.items():
        written = np.load(out / f"{name}.npy")
        assert np.array_equal(written, runtime.predict(path).f_tensor), name
        assert written.shape[1:] == Image.open(path).size[::-1]
        assert Image.open(out / "viz" / f"{name}.png").size[1] == written.shape[1]
    report = json.loads((out / "predict_report.json").read_text())
    assert report["written"] == 5 and [Path(f["path"]).name for f in report["failed"]] == ["broken.png"]
    assert "broken.png" in report["failed"][0]["path"] and report["failed"][0]["error"]
    assert report["spec_version"] == 2 and report["preset"] == runtime.info()["preset"]
    # A rerun skips finished outputs; one lost output is made again.
    (out / "000001.npy").unlink()
    assert main(command) == 0
    assert "wrote 1 F_Tensors" in capsys.readouterr().out
    assert json.loads((out / "predict_report.json").read_text())["skipped_existing"] == 4
    # An image changed since its output was written is predicted again, not answered from the old output.
    changed = images["000002"]
    Image.open(changed).transpose(Image.Transpose.FLIP_TOP_BOTTOM).save(changed)
    later = (out / "000002.npy").stat().st_mtime + 5
    os.utime(changed, (later, later))
    assert main(command) == 0
    assert "wrote 1 F_Tensors" in capsys.readouterr().out
    assert np.array_equal(np.load(out / "000002.npy"), runtime.predict(changed).f_tensor)


def test_predict_shards_partition_the_inputs_and_bad_flags_are_clear(exported, dataset, tmp_path, capsys):
    out = tmp_path / "out"
    pattern = str(dataset / "images" / "*.png")
    for k in range(3):
        command = ["predict", "--model", str(exported), "--input", pattern, "--output", str(out)]
        assert main([*command, "--shard", f"{k}/3"]) == 0
    stems = sorted(p.stem for p in out.glob("*.npy"))
    assert stems == sorted(p.stem for p in (dataset / "images").glob("*.png"))
    reports = [json.loads((out / f"predict_report_shard-{k}-of-3.json").read_text()) for k in range(3)]
    assert sum(r["images"] for r in reports) == len(stems)
    capsys.readouterr()
    bad = {
        "--shard 3/3": (["--shard", "3/3"], "0 ≤ k < n"),
        "--shard x": (["--shard", "x"], "must look like k/n"),
        "--batch_size 0": (["--batch_size", "0"], "at least 1"),
        "no input": (["--input", str(tmp_path / "nothing")], "no images found"),
        "no model": (["--model", str(tmp_path / "missing.onnx")], "model not found"),
    }
    for name, (flags, phrase) in bad.items():
        args = {"--model": str(exported), "--input": pattern, "--output": str(tmp_path / "o2")}
        args.update(dict(zip(flags[::2], flags[1::2])))
        assert main(["predict", *[x for kv in args.items() for x in kv]]) == 2, name
        assert phrase in capsys.readouterr().err, name


def test_predict_into_its_own_input_folder_never_reads_its_outputs(exported, dataset, tmp_path, capsys):
    for k in range(2):
        shutil.copy(dataset / "images" / f"{k:06d}.png", tmp_path)
    command = ["predict", "--model", str(exported), "--input", str(tmp_path), "--output", str(tmp_path / "out")]
    for _ in range(2):
        assert main([*command, "--save_viz"]) == 0
    assert json.loads((tmp_path / "out" / "predict_report.json").read_text())["images"] == 2
    assert sorted(p.name for p in (tmp_path / "out").glob("*.npy")) == ["000000.npy", "000001.npy"]


def test_predict_never_mixes_models_loses_a_result_or_lets_names_collide(exported, design, tmp_path, capsys):
    import onnx

    inputs, out = tmp_path / "in", tmp_path / "out"
    inputs.mkdir()
    names = ["a.png", "a.jpg", "a.png.gif", "A.png", "Logo.png", "logo.jpg"]
    for name in names:
        design.save(inputs / name)
    too_long = ["y" * 250 + ".png", "y" * 250 + ".jpg"]  # their outputs, y….png.npy, pass the 255-byte limit
    for name in too_long:
        design.save(inputs / name)
    command = ["predict", "--model", str(exported), "--input", str(inputs), "--output", str(out), "--save_viz"]
    assert main(command) == 0
    assert f"wrote {len(names)} F_Tensors" in capsys.readouterr().out
    written = [p.relative_to(out) for p in out.rglob("*.npy")]
    assert len(written) == len(names) and len({str(p).casefold() for p in written}) == len(names)
    report = json.loads((out / "predict_report.json").read_text())
    assert sorted(Path(f["path"]).name for f in report["failed"]) == sorted(too_long)
    assert all("could not write" in f["error"] for f in report["failed"])
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")], "no temporary file is left behind"
    # A lost panel and an output cut short by a crash are made again; complete ones are kept.
    next(out.glob("viz/*.png")).unlink()
    next(out.glob("*.npy")).write_bytes(b"")
    assert main(command) == 0
    assert "wrote 2 F_Tensors" in capsys.readouterr().out
    # Another model into the same folder is refused, naming both ways out.
    other = onnx.load(exported)
    onnx.helper.set_model_props(other, {**{p.key: p.value for p in other.metadata_props}, "preset": "other"})
    onnx.save(other, tmp_path / "other.onnx")
    assert main(["predict", "--model", str(tmp_path / "other.onnx"), "--input", str(inputs), "--output", str(out)]) == 2
    assert "holds predictions of another model" in capsys.readouterr().err
    # An output folder that holds the input would read its own outputs, or write nothing.
    assert main(["predict", "--model", str(exported), "--input", str(inputs), "--output", str(inputs)]) == 2
    assert "holds the input" in capsys.readouterr().err


def test_serve_refuses_a_port_in_use_clearly(exported, capsys):
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        assert main(["serve", "--model", str(exported), "--port", str(port)]) == 2
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err


def test_the_adaptive_batcher_runs_waiting_requests_together_and_answers_each():
    from ftensor.serving.service import AdaptiveBatcher

    shapes, threads = [], set()

    def run(batch: np.ndarray) -> np.ndarray:
        shapes.append(batch.shape)
        threads.add(threading.current_thread().name)
        time.sleep(0.05)  # a busy model: requests pile up meanwhile
        if (batch == 13).any():
            raise RuntimeError("model failure")
        return batch * 2

    def request(value: int, height: int = 2) -> np.ndarray:
        return np.full((height, 2, 3), value)

    async def main() -> list:
        batcher = AdaptiveBatcher(run, max_batch_pixels=4 * 2 * 2)  # four 2×2 inputs a call
        first = asyncio.ensure_future(batcher(request(0)))  # finds the model idle: runs alone, at once
        await asyncio.sleep(0.01)
        rest = await asyncio.gather(*(batcher(request(k, 2 + 2 * (k % 2))) for k in range(1, 10)))
        return [await first, *rest]

    answers = asyncio.run(main())
    assert [int(a[0, 0, 0]) for a in answers] == [2 * k for k in range(10)]
    assert [a.shape[0] for a in answers] == [2 + 2 * (k % 2) for k in range(10)], "each gets its own answer"
    # One input size a call, within the pixel budget: four 2×2 inputs, or two 4×2.
    assert shapes[0][0] == 1
    assert max(s[0] for s in shapes if s[1] == 2) == 4 and max(s[0] for s in shapes if s[1] == 4) == 2
    assert sum(s[0] for s in shapes) == 10
    # The model runs on a thread of its own, never on the pool that decodes uploads (nor the default one):
    # however many slow decodes are queued, they cannot keep the model from running.
    assert len(threads) == 1 and threads.pop().startswith("ftensor-model")

    async def failing() -> tuple:
        batcher = AdaptiveBatcher(run, max_batch_pixels=16)
        failed = await asyncio.gather(batcher(request(13)), batcher(request(1)), return_exceptions=True)
        return failed, await batcher(request(2))

    failed, later = asyncio.run(failing())
    assert all(isinstance(f, RuntimeError) for f in failed), "every request of a failed batch gets the error"
    assert int(later[0, 0, 0]) == 4, "and the batcher goes on serving"


def test_model_lanes_split_a_batch_and_answer_as_the_one_session_would(exported, dataset):
    from ftensor.serving.runtime import model_input
    from ftensor.serving.service import MAX_LANES, ModelLanes

    runtime = Runtime(exported, spin=False)
    squares = [Image.open(p).convert("RGB") for p in sorted((dataset / "images").glob("*.png"))]
    pixels, _ = model_input([image for image in squares if image.size == (64, 64)][:5], runtime.image_size)
    lanes = ModelLanes(runtime, cores=2)
    assert len(lanes.lanes) == 2 and all(lane.session is not runtime.session for lane in lanes.lanes)
    assert np.array_equal(lanes.run(pixels), runtime.run(pixels)[0]), "five images over two lanes"
    assert np.array_equal(lanes.run(pixels[:1]), runtime.run(pixels[:1])[0]), "one image on the worker's session"
    assert ModelLanes(runtime, cores=1).lanes == [] and ModelLanes(runtime, cores=MAX_LANES + 1).lanes == []


@pytest.fixture(scope="module")
def server(exported):
    import bentoml

    with pytest.MonkeyPatch.context() as patch:  # the server's setting, restored after it: no leak into later tests
        patch.setenv("FTENSOR_MODEL", str(exported))
        patch.setenv("FTENSOR_UPLOAD_SECONDS", "3")
        with bentoml.serve("ftensor.serving.service:FTensorService", host="127.0.0.1", port=free_port()) as server:
            wait_ready(server.url)
            yield server.url


def post(url: str, body: bytes, content_type: str) -> tuple[int, bytes]:
    request = Request(url, data=body, headers={"Content-Type": content_type}, method="POST")
    try:
        with urlopen(request, timeout=60) as response:
            return response.status, response.read()
    except HTTPError as error:
        return error.code, error.read()


def test_http_predict_equals_the_in_process_runtime(server, runtime, design, dataset):
    client = FTensorClient(server)
    body, content_type = multipart_body({"image": ("design.png", encode(design))}, {})
    status, response = post(f"{server}/predict", body, content_type)
    payload = json.loads(response)
    assert status == 200
    assert payload["spec_version"] == 2 and payload["shape"] == [4, 64, 64] and payload["dtype"] == "uint8"
    assert payload["channels"] == ["text", "image", "color", "hierarchy"] and payload["encoding"] == "zlib+base64"
    assert np.array_equal(decode_array(payload), runtime.predict(design).f_tensor)
    wide = encode(design.resize((160, 96)).convert("RGBA"))
    assert np.array_equal(client.predict(wide), runtime.predict(wide).f_tensor)
    assert client.predict(wide).shape == (4, 96, 160) and client.predict(wide, size="model").shape == (4, 64, 107)
    # Concurrent requests share model calls (adaptive batching) and each gets its own answer.
    paths = sorted((dataset / "images").glob("*.png"))[:12]
    with ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(client.predict, paths))
    for path, answer in zip(paths, answers):
        assert np.array_equal(answer, runtime.predict(path).f_tensor), path.name


def test_the_client_keeps_its_connection_and_reconnects_when_the_server_closed_it(server, design):
    client, png = FTensorClient(server), encode(design)
    assert client.predict(png).shape == (4, 64, 64)
    connection = client._local.connection
    assert client.predict(png).shape == (4, 64, 64) and client._local.connection is connection, "kept alive"
    connection.sock.shutdown(socket.SHUT_RDWR)  # as when the server drops an idle connection
    assert client.predict(png).shape == (4, 64, 64) and client._local.connection is not connection
    with pytest.raises(FTensorServerError, match="not a readable image") as refused:
        client.predict(b"not an image")
    assert refused.value.status == 400 and client.predict(png).shape == (4, 64, 64), "an error keeps it usable"
    with pytest.raises(ValueError, match="not a server address"):
        FTensorClient("127.0.0.1:3000")


def test_info_health_metrics_and_docs(server, exported):
    info = FTensorClient(server).info()
    assert info["spec_version"] == 2 and info["image_size"] == 64 and info["preset"] == "tiny"
    assert len(info["class_names"]) == 12 and len(info["palette"]) == 12 and "f_tensor" in info["heads"]
    for route in ("/livez", "/readyz"):
        with urlopen(f"{server}{route}", timeout=10) as response:
            assert response.status == 200
    with urlopen(f"{server}/metrics", timeout=10) as response:
        assert b"bentoml_service_request" in response.read()
    with urlopen(f"{server}/docs.json", timeout=10) as response:
        assert {"/predict", "/info"} <= set(json.loads(response.read())["paths"])


def test_bad_requests_get_clear_4xx_answers_and_the_server_keeps_working(server, bad_uploads, design, tmp_path):
    client = FTensorClient(server)
    for name, (data, phrase) in bad_uploads.items():
        with pytest.raises(FTensorServerError, match=phrase) as refused:
            client.predict(data)
        assert refused.value.status == 400, name
    part = b'--x\r\nContent-Disposition: form-data; name="image"; filename="d.png"\r\n\r\n' + encode(design) + b"\r\n"
    two_images = 2 * part + b"--x--\r\n"  # one answer for two uploads would be an answer for one of them
    wrong = {
        "unknown field": (*multipart_body({"file": ("design.png", encode(design))}, {}), "unknown field(s) file"),
        "no file": (*multipart_body({}, {"image": "design.png"}), "missing or is not a file"),
        "bad size": (*multipart_body({"image": ("d.png", encode(design))}, {"size": "huge"}), "validation error"),
        "json": (b'{"image": 1}', "application/json", "not a multipart upload"),
        "empty body": (b"", "multipart/form-data; boundary=x", "the field `image` is missing"),
        "malformed": (b"--x\r\nnonsense", "multipart/form-data; boundary=x", "image"),
        "two images": (two_images, "multipart/form-data; boundary=x", "came more than once"),
    }
    for name, (body, content_type, phrase) in wrong.items():
        status, response = post(f"{server}/predict", body, content_type)
        assert status == 400 and phrase in error_message(response), (name, response)
    # Too many bytes, with a Content-Length or chunked: a 413 that every client reads, Python's urllib
    # included (the server reads what it refuses rather than resetting the connection under the client).
    host, port = server.removeprefix("http://").split(":")
    megabyte = b"\0" * 2**20
    for declared in (True, False):
        connection = http.client.HTTPConnection(host, int(port), timeout=60)
        connection.putrequest("POST", "/predict")
        connection.putheader("Content-Type", "multipart/form-data; boundary=x")
        connection.putheader(*(("Content-Length", str(21 * 2**20)) if declared else ("Transfer-Encoding", "chunked")))
        connection.endheaders()
        for _ in range(21):
            connection.send(megabyte if declared else b"%x\r\n%s\r\n" % (len(megabyte), megabyte))
        if not declared:
            connection.send(b"0\r\n\r\n")
        response = connection.getresponse()
        assert response.status == 413 and "limit" in error_message(response.read()), declared
        connection.close()
    status, response = post(f"{server}/predict", b"\0" * 64 * 2**20, "multipart/form-data; boundary=x")
    assert status == 413 and "limit" in error_message(response), "urllib reads the 413, not a reset"
    # A body that trickles in is cut off after FTENSOR_UPLOAD_SECONDS (3 s here), not held forever.
    with socket.create_connection((host, int(port)), timeout=30) as slow:
        slow.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=x\r\n")
        slow.sendall(b"Content-Length: 1000\r\n\r\n--x\r\n")
        started = time.monotonic()
        answer = slow.recv(4096)
        assert answer.startswith(b"HTTP/1.1 408") and time.monotonic() - started < 20, answer[:200]
    # Whatever file name a client sends, BentoML never sees it (it named a temporary file after it: a 500).
    png = encode(design)
    for name in ("é" * 130 + ".png", "../../etc/passwd", 'quo"te.png', "a/b\\c.png", "x" * 300 + ".png"):
        status, response = post(f"{server}/predict", *multipart_body({"image": (name, png)}, {}))
        assert status == 200, (name, response[:300])
    status, response = post(f"{server}/predict", *multipart_body({"image": ("line\r\nbreak.png", png)}, {}))
    assert status in (200, 400), response[:300]

    # Nor when the headers are written in ways the multipart parser reads alike but a pattern could miss.
    def upload(parameters: bytes) -> bytes:
        disposition = b'Content-Disposition: form-data; name="image"' + parameters % (b"x" * 300 + b".png")
        return b"--REAL\r\n%s\r\nContent-Type: image/png\r\n\r\n%s\r\n--REAL--\r\n" % (disposition, png)

    plain, ordinary = upload(b'; filename="%s"'), "multipart/form-data; boundary=REAL"
    written_oddly = {
        "a space before =": (upload(b'; filename ="%s"'), ordinary),
        "a bare LF in the line": (upload(b"; x=1\n; filename=%s"), ordinary),
        "a decoy boundary": (plain, "multipart/form-data; xboundary=nope; boundary=REAL"),
        "a spaced boundary": (plain, "multipart/form-data; boundary = REAL"),
    }
    for name, (body, content_type) in written_oddly.items():
        status, response = post(f"{server}/predict", body, content_type)
        assert status == 200, (name, response[:300])
    connection = http.client.HTTPConnection(host, int(port), timeout=60)  # two Content-Types: the first counts
    connection.putrequest("POST", "/predict")
    for boundary in ("REAL", "nope"):
        connection.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
    connection.putheader("Content-Length", str(len(plain)))
    connection.endheaders(plain)
    response = connection.getresponse()
    assert response.status == 200, response.read()[:300]
    connection.close()
    # The client sends any file the file system can name, whatever its name holds.
    for name in ('a "quoted" name.png', "a line\r\nbreak.png", "ends in a backslash \\"):
        (tmp_path / name).write_bytes(png)
        assert client.predict(tmp_path / name).shape == (4, 64, 64), name
    # Nothing above killed a worker.
    assert client.predict(encode(design)).shape == (4, 64, 64)


def test_a_50_megapixel_answer_stalls_no_other_request(server):
    """The answer to a 7000×7000 upload (196 MB before compression) is resized and encoded beside the
    event loop: health checks sent meanwhile answer at once, not when that answer is done."""
    huge = encode(Image.new("L", (7000, 7000), 200))  # flat: a small upload, the largest answer allowed
    finished = threading.Event()
    seconds: list[float] = []
    shapes: list[tuple] = []

    def big_request() -> None:
        start = time.monotonic()
        try:
            shapes.append(FTensorClient(server, timeout=120).predict(huge).shape)
        finally:
            seconds.append(time.monotonic() - start)
            finished.set()

    worker = threading.Thread(target=big_request)
    worker.start()
    waits = []
    while not finished.is_set():
        start = time.monotonic()
        with urlopen(f"{server}/livez", timeout=60) as response:
            assert response.status == 200
        waits.append(time.monotonic() - start)
        time.sleep(0.02)
    worker.join()
    assert shapes == [(4, 7000, 7000)]
    # The answer's work takes seconds; every health check during it is answered in a fraction of that
    # (on the event loop, the check that arrives at its start waits for all of it).
    assert len(waits) >= 10, (seconds, len(waits))
    assert max(waits) < seconds[0] / 4, (max(waits), seconds[0])


def test_predict_and_serve_work_in_a_virtual_environment_without_torch(exported, dataset, runtime, tmp_path):
    """Install ftensor[serve] from this checkout into a fresh venv: no torch, yet predict, val and serve work."""
    source = tmp_path / "src"
    shutil.copytree(ROOT / "ftensor", source / "ftensor", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    bin_dir = venv / "bin"
    install = [str(bin_dir / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run([*install, f"{source}[serve]"], check=True)
    assert subprocess.run([str(bin_dir / "python"), "-c", "import torch"], capture_output=True).returncode != 0
    ftensor = str(bin_dir / "ftensor")
    env = {**os.environ, "BENTOML_DO_NOT_TRACK": "True"}

    refused = subprocess.run([ftensor, "train"], capture_output=True, text=True, env=env)
    assert refused.returncode == 2 and "pip install -e '.[train]'" in refused.stderr

    out = tmp_path / "out"
    images = dataset / "images"
    predict = [ftensor, "predict", "--model", str(exported), "--input", str(images), "--output", str(out)]
    subprocess.run(predict, env=env, check=True)
    for path in sorted(images.glob("*.png"))[:5]:
        assert np.array_equal(np.load(out / f"{path.stem}.npy"), runtime.predict(path).f_tensor)
    scored = [ftensor, "val", "--model", str(exported), "--data_dir", str(dataset), "--output", str(tmp_path / "v")]
    subprocess.run(scored, env=env, check=True)
    assert json.loads((tmp_path / "v" / "val.json").read_text())["images"] == 40

    port = free_port()
    server = subprocess.Popen([ftensor, "serve", "--model", str(exported), "--port", str(port)], env=env)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_ready(url, server)
        path = images / "000003.png"
        assert np.array_equal(FTensorClient(url).predict(path), runtime.predict(path).f_tensor)
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture(scope="module")
def ink_model(tmp_path_factory):
    """A model whose answer is known: text wherever a pixel is dark, nothing else. Exported like any model,
    it shows where every path (runtime, `ftensor predict`, HTTP) maps a model's answer back to the image."""
    import torch

    from ftensor.export.onnx import export_graph, model_metadata

    class DarkInk(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
            luma = 0.299 * x[:, :1] + 0.587 * x[:, 1:2] + 0.114 * x[:, 2:3]
            zero = torch.zeros_like(luma)
            return {"text": 40 * (0.5 - luma), "image": zero - 10, "color": zero.repeat(1, 12, 1, 1), "hierarchy": zero}

    path = tmp_path_factory.mktemp("ink") / "ink.onnx"
    return export_graph(DarkInk(), path, 64, model_metadata(64, "dark-ink", 0, None))


def design_with_a_line(width: int, height: int, box: tuple[int, int, int, int]) -> Image.Image:
    """A white design with one black line of text of the box's height, its ink inside `box`."""
    from PIL import ImageDraw

    from ftensor.data.fonts import load_font

    image = Image.new("RGB", (width, height), "white")
    x0, y0, x1, y1 = box
    font = load_font("source-sans-pro", "bold", y1 - y0)
    ink = font.getbbox("Summer Sale")
    line = Image.new("L", (ink[2] - ink[0], ink[3] - ink[1]))
    ImageDraw.Draw(line).text((-ink[0], -ink[1]), "Summer Sale", font=font, fill=255)
    line = line.resize((x1 - x0, y1 - y0))
    image.paste((0, 0, 0), (x0, y0), line)
    return image


# (width, height) of a 16:9 slide and a 1:3 banner, and where each one's line of text is drawn.
LINES = {"16:9": ((1280, 720), (160, 300, 900, 400)), "1:3": ((240, 720), (30, 500, 210, 540))}


def check_line_found(f_tensor: np.ndarray, size: tuple[int, int], box: tuple[int, int, int, int]) -> None:
    """The answer is at the image's size and finds the line where it was drawn, nowhere else."""
    width, height = size
    assert f_tensor.shape == (4, height, width) and f_tensor.dtype == np.uint8
    x0, y0, x1, y1 = box
    found = f_tensor[0].astype(bool)
    margin = max(width, height) // 32  # a pixel or two at the model's scale
    outside = found.copy()
    outside[y0 - margin : y1 + margin, x0 - margin : x1 + margin] = False
    assert not outside.any(), "text found where none was drawn"
    inside = found[y0:y1, x0:x1]
    assert inside.mean() > 0.2 and inside[:, : (x1 - x0) // 4].any() and inside[:, -(x1 - x0) // 4 :].any()


@pytest.mark.parametrize("aspect", LINES)
def test_non_square_designs_are_read_at_their_own_proportions(ink_model, aspect, tmp_path):
    (width, height), box = LINES[aspect]
    image = design_with_a_line(width, height, box)
    runtime = Runtime(ink_model)
    at_model = runtime.predict(image, original_size=False).f_tensor
    assert at_model.shape[1:] == ((64, 114) if width > height else (192, 64)), "shorter side S, never squashed"
    check_line_found(runtime.predict(image).f_tensor, (width, height), box)
    # `ftensor predict` writes the same answer.
    image.save(tmp_path / "design.png")
    out = tmp_path / "out"
    assert (
        main(["predict", "--model", str(ink_model), "--input", str(tmp_path / "design.png"), "--output", str(out)]) == 0
    )
    check_line_found(np.load(next(out.rglob("design*.npy"))), (width, height), box)


def test_http_reads_non_square_designs_at_their_own_proportions(ink_model):
    import bentoml

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FTENSOR_MODEL", str(ink_model))
        with bentoml.serve("ftensor.serving.service:FTensorService", host="127.0.0.1", port=free_port()) as server:
            wait_ready(server.url)
            client = FTensorClient(server.url)
            for (width, height), box in LINES.values():
                check_line_found(client.predict(encode(design_with_a_line(width, height, box))), (width, height), box)


def test_predict_goes_on_past_images_the_model_fails_on(ink_model, tmp_path, capsys):
    """A model that fails at run time (here on any input but one 64×64 image: its first node joins the input
    to a 1×64×64×1 constant) costs only the images it fails on: a failed batch is run again image by image."""
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(ink_model)
    graph, image = model.graph, model.graph.input[0].name
    for node in graph.node:
        node.input[:] = ["checked" if name == image else name for name in node.input]
    constants = {"square": np.zeros((1, 64, 64, 1), np.uint8), "starts": [0], "ends": [3], "axes": [3]}
    graph.initializer.extend(numpy_helper.from_array(np.asarray(v), k) for k, v in constants.items())
    graph.node.insert(0, helper.make_node("Concat", [image, "square"], ["joined"], axis=3))  # uint8 NHWC
    graph.node.insert(1, helper.make_node("Slice", ["joined", "starts", "ends", "axes"], ["checked"]))
    onnx.save(model, tmp_path / "squares_only.onnx")
    inputs, out = tmp_path / "in", tmp_path / "out"
    inputs.mkdir()
    for name, size in {"a.png": (64, 64), "b.png": (64, 64), "slide.png": (112, 64), "c.png": (64, 64)}.items():
        design_with_a_line(*size, (8, 20, 56, 36)).save(inputs / name)
    command = ["predict", "--model", str(tmp_path / "squares_only.onnx"), "--input", str(inputs), "--output", str(out)]
    assert main(command) == 0
    assert "wrote 3 F_Tensors" in capsys.readouterr().out
    assert sorted(p.name for p in out.glob("*.npy")) == ["a.npy", "b.npy", "c.npy"]
    failed = json.loads((out / "predict_report.json").read_text())["failed"]
    assert [Path(f["path"]).name for f in failed] == ["slide.png"] and "the model failed on it" in failed[0]["error"]


def test_workers_share_the_machine_cores():
    """With --workers N each worker decodes and runs the model on the machine's cores ÷ N: N workers never
    decode more images at once than there are cores (a decode can take a GB)."""
    code = "import ftensor.serving.service as service; print(service.WORKER_CORES)"
    env = {**os.environ, "FTENSOR_WORKERS": "2", "BENTOML_DO_NOT_TRACK": "True"}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert int(result.stdout.split()[-1]) == max(1, (os.cpu_count() or 1) // 2)
