"""The U-Net's size and heads; loss and spec metrics on hand-made tensors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ftensor.errors import FTensorError
from ftensor.metrics import SpecMetrics, criteria_met
from ftensor.model import build_model, count_parameters, heads_to_f_tensor
from ftensor.spec import encode_f_tensor
from ftensor.training.loss import CompositeLoss, hierarchy_loss


def test_presets_and_head_shapes():
    assert count_parameters(build_model("unet")) == pytest.approx(31.04e6, rel=0.01)
    assert count_parameters(build_model("small")) < count_parameters(build_model("unet")) / 10
    model = build_model("tiny").eval()
    heads = model(torch.rand(2, 3, 64, 80))
    assert heads["text"].shape == heads["image"].shape == heads["hierarchy"].shape == (2, 1, 64, 80)
    assert heads["color"].shape == (2, 12, 64, 80)
    assert 0 <= heads["hierarchy"].min() and heads["hierarchy"].max() <= 1
    f_tensor = heads_to_f_tensor(heads)
    assert f_tensor.dtype == torch.uint8 and f_tensor.shape == (2, 4, 64, 80)
    # The graph's encoding is the contract's: the same answer as ftensor.spec.encode_f_tensor.
    probabilities = {k: v.detach().numpy() for k, v in heads.items()}
    for i in range(2):
        reference = encode_f_tensor(
            1 / (1 + np.exp(-probabilities["text"][i, 0])),
            1 / (1 + np.exp(-probabilities["image"][i, 0])),
            probabilities["color"][i],
            probabilities["hierarchy"][i, 0],
        )
        assert np.array_equal(f_tensor[i].numpy(), reference)
    with pytest.raises(FTensorError, match="multiples of 16"):
        model(torch.rand(1, 3, 64, 70))
    with pytest.raises(FTensorError, match="unknown preset"):
        build_model("huge")


def test_row_context_carries_evidence_along_the_row_only():
    """A line's box is as tall as its tallest glyph over the whole line: the CPU presets' row context lets a
    pixel see features over 33 cells of 4 px along its row (64 to 67 px either side), and nothing off it."""
    from ftensor.model.unet import RowContext

    torch.manual_seed(0)
    context = RowContext(4).eval()
    features = torch.zeros(1, 4, 8, 256)
    glyphs = torch.rand(1, 4, 8, 256)
    assert torch.equal(context(glyphs), glyphs), "a fresh block is the identity: training starts from the U-Net"
    torch.nn.init.ones_(context.norm.weight)  # as training would leave it: the context in use
    nudged = features.clone()
    nudged[0, :, 3, 130] = 1.0  # in cell 32, so cells 16 to 48 (pixels 64 to 195) see it
    change = (context(nudged) - context(features)).abs().sum(dim=1)[0]
    assert change[3, 64] > 0 and change[3, 195] > 0, "the farthest pixels of the farthest cells see the glyph"
    assert change[3, :64].sum() == 0 and change[3, 196:].sum() == 0, "farther along does not"
    assert change[[0, 1, 2, 4, 5, 6, 7]].sum() == 0, "other rows do not"
    assert not isinstance(build_model("unet").row_context, RowContext), "the standard U-Net stays the seed's"


def test_perfect_prediction_gives_iou_1_and_mse_0():
    rng = np.random.default_rng(0)
    truth = encode_f_tensor(
        rng.integers(0, 2, (8, 8)), rng.integers(0, 2, (8, 8)), rng.integers(0, 12, (8, 8)), rng.random((8, 8))
    )
    metrics = SpecMetrics()
    metrics.update(truth, truth)
    assert metrics.compute() == {"text_iou": 1.0, "image_iou": 1.0, "color_accuracy": 1.0, "hierarchy_mse": 0.0}
    empty = encode_f_tensor(np.zeros((4, 4)), np.zeros((4, 4)), np.zeros((4, 4)), np.zeros((4, 4)))
    metrics = SpecMetrics()
    metrics.update(empty, empty)
    assert metrics.compute()["text_iou"] == 1.0, "IoU is 1.0 where both masks are empty everywhere"


def test_known_overlaps_give_known_values_summed_over_the_split():
    zeros = np.zeros((4, 4))
    true_text, pred_text = zeros.copy(), zeros.copy()
    true_text[:2, :] = 1  # 8 pixels
    pred_text[1:3, :] = 1  # 8 pixels, 4 shared → IoU 4 / 12
    true_color, pred_color = zeros.copy(), zeros.copy()
    pred_color[0, :] = 3  # 4 of 16 wrong
    metrics = SpecMetrics()
    metrics.update(
        encode_f_tensor(pred_text, zeros, pred_color, zeros + 0.2), encode_f_tensor(true_text, zeros, true_color, zeros)
    )
    # A second image whose text matches exactly: the split's IoU is (4 + 8) / (12 + 8), not a mean of ratios.
    exact = encode_f_tensor(true_text, zeros, true_color, zeros)
    metrics.update(exact, exact)
    result = metrics.compute()
    assert result["text_iou"] == pytest.approx(12 / 20)
    assert result["image_iou"] == 1.0
    assert result["color_accuracy"] == pytest.approx(28 / 32)
    assert result["hierarchy_mse"] == pytest.approx((16 * (51 / 255) ** 2) / 32)
    assert criteria_met(result) == {"text_iou": False, "image_iou": True, "color_accuracy": True, "hierarchy_mse": True}


def test_composite_loss_weights_its_parts():
    torch.manual_seed(0)
    target = torch.cat(  # true F_Tensors in the spec's encoding, as the dataset gives them
        [
            torch.randint(0, 2, (2, 2, 16, 16), dtype=torch.uint8),
            torch.randint(0, 12, (2, 1, 16, 16), dtype=torch.uint8),
            torch.randint(0, 256, (2, 1, 16, 16), dtype=torch.uint8),
        ],
        dim=1,
    )
    confident = {
        "text": (target[:, 0:1].float() * 2 - 1) * 50,
        "image": (target[:, 1:2].float() * 2 - 1) * 50,
        "color": torch.nn.functional.one_hot(target[:, 2].long(), 12).permute(0, 3, 1, 2).float() * 50,
        "hierarchy": target[:, 3:4].float() / 255,
    }
    total, parts = CompositeLoss()(confident, target)
    assert total.item() == pytest.approx(0.0, abs=1e-4), "a perfect, confident prediction costs nothing"
    random_heads = {k: torch.randn_like(v.float()) for k, v in confident.items()}
    random_heads["hierarchy"] = torch.rand_like(confident["hierarchy"])
    _, parts = CompositeLoss()(random_heads, target)
    weighted, _ = CompositeLoss(dice_weight=2.0, ce_weight=0.5, mse_weight=3.0)(random_heads, target)
    expected = 2.0 * (parts["text"] + parts["image"]) + 0.5 * parts["color"] + 3.0 * parts["hierarchy"]
    assert weighted.item() == pytest.approx(expected.item(), rel=1e-5)


def test_balanced_hierarchy_loss_weighs_each_role_alike():
    encoded = torch.zeros(1, 1, 10, 10, dtype=torch.uint8)
    encoded[..., 0, :2] = 204  # two button pixels (0.8) among 98 of background (0)
    prediction = encoded.float() / 255
    prediction[..., 0, :2] = 0.4  # buttons off by 0.4, background exact
    plain = hierarchy_loss(prediction, encoded)
    assert plain.item() == pytest.approx(0.16 * 2 / 100), "per pixel, the background hides the buttons"
    assert hierarchy_loss(prediction, encoded, 1.0).item() == pytest.approx((0.16 + 0.0) / 2), "each role alike"
    assert hierarchy_loss(prediction, encoded, 0.5).item() == pytest.approx(0.5 * plain.item() + 0.5 * 0.08)
    f_tensor = torch.cat([torch.zeros(1, 3, 10, 10, dtype=torch.uint8), encoded], dim=1)
    heads = {name: torch.zeros(1, channels, 10, 10) for name, channels in (("text", 1), ("image", 1), ("color", 12))}
    _, parts = CompositeLoss(hierarchy_balance=0.5)({**heads, "hierarchy": prediction}, f_tensor)
    assert parts["hierarchy"].item() == pytest.approx(0.5 * plain.item() + 0.5 * 0.08)
