"""The U-Net encoder: presets, heads and the head → F_Tensor encoding."""

from ftensor.model.unet import PRESETS, UNet, build_model, count_parameters, heads_to_f_tensor

__all__ = ["PRESETS", "UNet", "build_model", "count_parameters", "heads_to_f_tensor"]
