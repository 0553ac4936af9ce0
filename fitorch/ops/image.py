"""Image ops (``keras.ops.image``): grayscale, resizing, padding and cropping of image batches.

Images are ``(batch, height, width, channels)`` (or one image without the batch axis), or
channels-first with ``data_format="channels_first"``.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from fitorch import backend
from fitorch.ops._missing import missing_attribute
from fitorch.ops.core import convert_to_tensor

__all__ = ["crop_images", "pad_images", "resize", "rgb_to_grayscale"]

_MODES = {"bilinear": "bilinear", "nearest": "nearest-exact", "bicubic": "bicubic"}


def _batched_nchw(images: Any, data_format: str | None, fn: str) -> tuple[torch.Tensor, bool,
                                                                            bool]:
    """Images as a channels-first batch, plus (was channels_last, had no batch axis)."""
    x = convert_to_tensor(images)
    if x.ndim not in (3, 4):
        raise ValueError(f"{fn}: images must have 3 (one image) or 4 (a batch) axes, got shape "
                         f"{tuple(x.shape)}")
    single = x.ndim == 3
    x = x.unsqueeze(0) if single else x
    last = backend.standardize_data_format(data_format) == "channels_last"
    return (x.permute(0, 3, 1, 2) if last else x), last, single


def _restore(x: torch.Tensor, last: bool, single: bool) -> torch.Tensor:
    x = x.permute(0, 2, 3, 1) if last else x
    return x[0] if single else x


def rgb_to_grayscale(images: Any, data_format: str | None = None) -> torch.Tensor:
    """RGB to one-channel luminance (ITU-R 601 weights 0.2989, 0.587, 0.114)."""
    x, last, single = _batched_nchw(images, data_format, "rgb_to_grayscale")
    if x.shape[1] != 3:
        raise ValueError(f"rgb_to_grayscale: images must have 3 channels, got {x.shape[1]}")
    gray = 0.2989 * x[:, 0:1].float() + 0.587 * x[:, 1:2].float() + 0.114 * x[:, 2:3].float()
    return _restore(gray.to(x.dtype), last, single)


def check_resize_args(owner: str, interpolation: str, crop_to_aspect_ratio: bool,
                      pad_to_aspect_ratio: bool, fill_mode: str) -> None:
    """Raise ``ValueError`` for resize options torch cannot honour (shared with ``Resizing``)."""
    if interpolation not in _MODES:
        raise ValueError(f"{owner}: interpolation={interpolation!r} is not one of "
                         f"{tuple(_MODES)} (the modes torch's interpolate offers)")
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError(f"{owner}: only one of crop_to_aspect_ratio and pad_to_aspect_ratio "
                         "can be True")
    if fill_mode != "constant":
        raise ValueError(f"{owner}: fill_mode={fill_mode!r}; only 'constant' is supported")


def resize(images: Any, size: tuple[int, int], interpolation: str = "bilinear",
           antialias: bool = False, crop_to_aspect_ratio: bool = False,
           pad_to_aspect_ratio: bool = False, fill_mode: str = "constant",
           fill_value: float = 0.0, data_format: str | None = None) -> torch.Tensor:
    """Images resized to ``size`` ``(height, width)`` by ``"bilinear"``, ``"nearest"`` or
    ``"bicubic"`` interpolation (half-pixel centres, as TensorFlow).

    ``crop_to_aspect_ratio`` first crops the centre to the target's aspect ratio;
    ``pad_to_aspect_ratio`` pads around the image with ``fill_value`` instead (Keras's
    arithmetic, so the same pixels are kept)."""
    check_resize_args("resize", interpolation, crop_to_aspect_ratio, pad_to_aspect_ratio,
                      fill_mode)
    if len(size) != 2:
        raise ValueError(f"resize: size={size!r} must be (height, width)")
    x, last, single = _batched_nchw(images, data_format, "resize")
    if crop_to_aspect_ratio or pad_to_aspect_ratio:
        x = _to_aspect_ratio(x, size, crop_to_aspect_ratio, fill_value)
    dtype = x.dtype
    work = x if dtype.is_floating_point else x.float()
    smooth = interpolation != "nearest"
    out = F.interpolate(work, size=tuple(int(s) for s in size), mode=_MODES[interpolation],
                        align_corners=False if smooth else None, antialias=antialias and smooth)
    if not dtype.is_floating_point:
        info = torch.iinfo(dtype)
        out = out.round().clamp(info.min, info.max)
    return _restore(out.to(dtype), last, single)


def _to_aspect_ratio(x: torch.Tensor, size: tuple[int, int], crop: bool,
                     fill_value: float) -> torch.Tensor:
    """``x`` (NCHW) centre-cropped (``crop``) or padded to the aspect ratio of ``size``."""
    height, width = x.shape[2], x.shape[3]
    target_h, target_w = size
    # int(float(...)) as Keras computes it, so odd sizes round the same way
    want_h = int(float(width * target_h) / target_w)
    want_w = int(float(height * target_w) / target_h)
    if crop:
        crop_h, crop_w = max(min(height, want_h), 1), max(min(width, want_w), 1)
        top, left = int(float(height - crop_h) / 2), int(float(width - crop_w) / 2)
        return x[:, :, top:top + crop_h, left:left + crop_w]
    pad_h, pad_w = max(height, want_h), max(width, want_w)
    top, left = int(float(pad_h - height) / 2), int(float(pad_w - width) / 2)
    return F.pad(x, (left, left, top, top), value=fill_value)


def pad_images(images: Any, top_padding: int | None = None, left_padding: int | None = None,
               bottom_padding: int | None = None, right_padding: int | None = None,
               target_height: int | None = None, target_width: int | None = None,
               data_format: str | None = None) -> torch.Tensor:
    """Images padded with zeros: give two of top/bottom/target_height and two of
    left/right/target_width."""
    x, last, single = _batched_nchw(images, data_format, "pad_images")
    top, bottom, left, right = _edges(x, "pad_images", (top_padding, left_padding,
                                                        bottom_padding, right_padding),
                                      (target_height, target_width), grow=True)
    return _restore(F.pad(x, (left, right, top, bottom)), last, single)


def crop_images(images: Any, top_cropping: int | None = None, left_cropping: int | None = None,
                bottom_cropping: int | None = None, right_cropping: int | None = None,
                target_height: int | None = None, target_width: int | None = None,
                data_format: str | None = None) -> torch.Tensor:
    """Images cropped: give two of top/bottom/target_height and two of
    left/right/target_width."""
    x, last, single = _batched_nchw(images, data_format, "crop_images")
    height, width = x.shape[2], x.shape[3]
    top, bottom, left, right = _edges(x, "crop_images", (top_cropping, left_cropping,
                                                         bottom_cropping, right_cropping),
                                      (target_height, target_width), grow=False)
    return _restore(x[:, :, top:height - bottom, left:width - right], last, single)


def _edges(x: torch.Tensor, fn: str, amounts: tuple[int | None, ...],
           targets: tuple[int | None, int | None], grow: bool) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) from the arguments of ``pad_images`` / ``crop_images``."""
    word = "padding" if grow else "cropping"
    top, left, bottom, right = amounts
    top, bottom = _sides(top, bottom, targets[0], x.shape[2], fn, f"top_{word}",
                         f"bottom_{word}", "target_height", grow)
    left, right = _sides(left, right, targets[1], x.shape[3], fn, f"left_{word}",
                         f"right_{word}", "target_width", grow)
    return top, bottom, left, right


def _sides(before: int | None, after: int | None, target: int | None, current: int, fn: str,
           before_name: str, after_name: str, target_name: str, grow: bool) -> tuple[int, int]:
    """The two amounts from any two of (before, after, target size)."""
    if before is not None and after is not None and target is None:
        pass
    elif before is None and after is not None and target is not None:
        before = (target - current if grow else current - target) - after
    elif before is not None and after is None and target is not None:
        after = (target - current if grow else current - target) - before
    else:  # none, one or all three given
        raise ValueError(f"{fn}: give exactly two of {before_name}={before}, "
                         f"{after_name}={after}, {target_name}={target}")
    if before < 0 or after < 0:
        raise ValueError(f"{fn}: {before_name}={before} and {after_name}={after} must not be "
                         f"negative (image size {current}, {target_name}={target})")
    if not grow and before + after > current:
        raise ValueError(f"{fn}: cropping {before} + {after} exceeds the image size {current}")
    return int(before), int(after)


def __getattr__(name: str) -> Any:
    raise missing_attribute("fitorch.ops.image", name)
