"""Export a trained encoder to one self-contained ONNX file that takes what a client has.

The graph's input is `p_image`, uint8 [batch, height, width, 3] RGB — exactly what
`np.asarray(PIL.Image.open(f).convert("RGB"))` gives — and the division by 255 happens inside it,
so no consumer can get normalisation wrong. Outputs (their names live in ftensor.spec):

| name | dtype, shape | meaning |
|---|---|---|
| `f_tensor` | uint8 [batch, 4, H, W] | the spec's encoding: text, image, class, round(255·hierarchy) |
| `text_prob` | float32 [batch, 1, H, W] | probability that a pixel is text |
| `image_prob` | float32 [batch, 1, H, W] | probability that a pixel is image |
| `color_prob` | float32 [batch, 12, H, W] | softmax over the palette classes |
| `hierarchy` | float32 [batch, 1, H, W] | visual-hierarchy value in [0, 1] |

Batch, height and width are dynamic (height and width multiples of 16). Metadata travels inside
the file (`session.get_modelmeta().custom_metadata_map`).
"""

from __future__ import annotations

import json
from pathlib import Path

import onnx
import torch
from torch import nn

from ftensor import __version__
from ftensor.files import atomic_write_bytes
from ftensor.model import heads_to_f_tensor
from ftensor.spec import CLASS_NAMES, HEADS, INPUT_DESCRIPTION, INPUT_NAME, OUTPUT_NAMES, PALETTE, SPEC_VERSION


class ClientGraph(nn.Module):
    """The encoder between the bytes a client has and the spec's outputs."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, p_image: torch.Tensor) -> tuple[torch.Tensor, ...]:
        x = p_image.permute(0, 3, 1, 2).float() / 255.0  # the argument's name is the graph's INPUT_NAME
        heads = self.model(x)
        # Softmax over the class axis, written out: onnxruntime's Softmax on axis 1 transposes to the
        # last axis and back, which took a quarter of the `small` model's CPU time at 256 px.
        exp = torch.exp(heads["color"] - heads["color"].amax(dim=1, keepdim=True))
        return (
            heads_to_f_tensor(heads),
            torch.sigmoid(heads["text"]),
            torch.sigmoid(heads["image"]),
            exp / exp.sum(dim=1, keepdim=True),
            heads["hierarchy"].clamp(0.0, 1.0),
        )


def model_metadata(image_size: int, preset: str, parameters: int, val_metrics: dict | None) -> dict[str, str]:
    """What a consumer needs to use the file without ftensor's source: all values are strings."""
    return {
        "spec_version": str(SPEC_VERSION),
        "image_size": str(image_size),
        "dynamic_hw": "true",
        "class_names": json.dumps(list(CLASS_NAMES)),
        "palette": json.dumps(PALETTE.tolist()),
        "heads": json.dumps(HEADS),
        "input": INPUT_DESCRIPTION,
        "preset": preset,
        "parameters": str(parameters),
        "val_metrics": json.dumps(val_metrics or {}),
        "ftensor_version": __version__,
    }


def export_graph(model: nn.Module, output: Path, image_size: int, metadata: dict[str, str], opset: int = 20) -> Path:
    """Trace `model` (eval mode, CPU) into `output` as one file with dynamic batch, height and width."""
    graph = ClientGraph(model.cpu()).eval()
    example = torch.zeros(2, image_size, image_size, 3, dtype=torch.uint8)
    blocks_h = torch.export.Dim("blocks_h", min=4, max=512)
    blocks_w = torch.export.Dim("blocks_w", min=4, max=512)
    dynamic = {INPUT_NAME: {0: torch.export.Dim("batch", min=1, max=1024), 1: 16 * blocks_h, 2: 16 * blocks_w}}
    with torch.no_grad():
        program = torch.onnx.export(
            graph,
            (example,),
            input_names=[INPUT_NAME],
            output_names=list(OUTPUT_NAMES),
            dynamic_shapes=dynamic,
            opset_version=opset,
            dynamo=True,
            external_data=False,
            verbose=False,
        )
    proto = program.model_proto
    # torch's notes on the traced program list its symbolic ranges in an order that varies from process to
    # process, and each node's stack trace names the exporting checkout's absolute path: without them the
    # same checkpoint exports to the same bytes from any clone (predict tells models apart by their sha256),
    # and a shipped model does not carry the exporter's file system.
    del proto.graph.metadata_props[:]
    for node in proto.graph.node:
        kept = [prop for prop in node.metadata_props if prop.key != "pkg.torch.onnx.stack_trace"]
        del node.metadata_props[:]
        node.metadata_props.extend(kept)
    onnx.helper.set_model_props(proto, metadata)
    onnx.checker.check_model(proto, full_check=True)
    atomic_write_bytes(output, proto.SerializeToString(), durable=True)
    return output
