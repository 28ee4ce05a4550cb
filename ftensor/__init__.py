"""ftensor: learn to map design images (P_Image) to per-pixel F_Tensors (see docs/FTENSOR_SPEC.md)."""

__version__ = "0.9.0"
