"""The composite loss of the original module: Dice + BCE on the masks, cross-entropy on colour, MSE on
hierarchy, each part weighted."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ftensor.spec import HIERARCHY_SCALE


def soft_dice_loss(logits: torch.Tensor, target: torch.Tensor, eps: float = 1.0) -> torch.Tensor:
    """1 − soft Dice over the whole batch (not per image), matching how the spec sums IoU."""
    probs = torch.sigmoid(logits)
    intersection = (probs * target).sum()
    return 1 - (2 * intersection + eps) / (probs.sum() + target.sum() + eps)


def hierarchy_loss(prediction: torch.Tensor, encoded: torch.Tensor, balance: float = 0.0) -> torch.Tensor:
    """MSE of the hierarchy head against the encoded truth (uint8, round(255 × hierarchy)). With `balance` > 0
    that share of it is the mean over the roles present of each role's own MSE: every role has its own
    hierarchy value, so the truth names the role. Per pixel, background and pictures outweigh a button's
    pixels a hundredfold: trained on the plain MSE, 0.7's model put half of a button's pixels at 0.25 or
    below (true 0.8), the levels of the decoration shapes it resembles."""
    truth = encoded.float() / HIERARCHY_SCALE
    plain = F.mse_loss(prediction, truth)
    if not balance:
        return plain
    level = encoded.flatten().long()
    squared = ((prediction - truth) ** 2).flatten()
    sums = torch.zeros(HIERARCHY_SCALE + 1, device=squared.device).index_add_(0, level, squared)
    counts = torch.bincount(level, minlength=HIERARCHY_SCALE + 1)
    present = counts > 0
    return (1 - balance) * plain + balance * (sums[present] / counts[present]).mean()


class CompositeLoss(nn.Module):
    """dice_weight × (soft Dice + BCE) on text and image + ce_weight × CE on colour + mse_weight × MSE
    on hierarchy (part of it balanced over roles: `hierarchy_loss`), against the true F_Tensors as the
    dataset gives them: uint8 (N, 4, H, W), decoded here, on the training device."""

    def __init__(
        self, dice_weight: float = 1.0, ce_weight: float = 1.0, mse_weight: float = 1.0, hierarchy_balance: float = 0.0
    ) -> None:
        super().__init__()
        self.dice_weight, self.ce_weight, self.mse_weight = dice_weight, ce_weight, mse_weight
        self.hierarchy_balance = hierarchy_balance

    def forward(
        self, heads: dict[str, torch.Tensor], f_tensor: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        parts = {}
        for channel, name in enumerate(("text", "image")):
            logits, truth = heads[name].float(), f_tensor[:, channel : channel + 1].float()
            parts[name] = soft_dice_loss(logits, truth) + F.binary_cross_entropy_with_logits(logits, truth)
        parts["color"] = F.cross_entropy(heads["color"].float(), f_tensor[:, 2].long())
        parts["hierarchy"] = hierarchy_loss(heads["hierarchy"].float(), f_tensor[:, 3:4], self.hierarchy_balance)
        total = (
            self.dice_weight * (parts["text"] + parts["image"])
            + self.ce_weight * parts["color"]
            + self.mse_weight * parts["hierarchy"]
        )
        return total, {name: value.detach() for name, value in parts.items()}
