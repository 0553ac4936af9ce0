"""Keras ops that fitorch.ops does not offer, each with what to use instead.

A name here raises an ``AttributeError`` carrying its hint. These are left out rather than
approximated: most take Keras-specific layouts (complex numbers as ``(real, imag)`` pairs,
TensorFlow's image-transform conventions) that torch functions do not share one for one.
"""

from __future__ import annotations

_FFT = ("use {} on a complex tensor (Keras passes (real, imag) pairs: torch.complex(real, "
        "imag) makes one, .real and .imag take it apart)")

HINTS: dict[str, str] = {
    "affine_transform": "use torch.nn.functional.affine_grid with torch.nn.functional."
                        "grid_sample (Keras's 8-number transform rows differ from torch's 2x3 "
                        "matrices)",
    "argpartition": "use torch.topk(x, k, largest=False) for the k smallest, or torch.argsort",
    "associative_scan": "use torch.cumsum / torch.cumprod / torch.cummax for the usual "
                        "operators, or a Python loop",
    "correlate": "use torch.nn.functional.conv1d (a cross-correlation) on (1, 1, length) views",
    "ctc_decode": "use torchaudio.models.decoder.ctc_decoder, or argmax then merge repeats "
                  "and drop blanks for greedy decoding",
    "ctc_loss": "use torch.nn.functional.ctc_loss (log-probabilities shaped (time, batch, "
                "classes))",
    "custom_gradient": "use a torch.autograd.Function subclass with forward and backward",
    "elastic_transform": "use torchvision.transforms.v2.ElasticTransform",
    "extract_patches": "use fitorch.ops.unfold (channels first), or tensor.unfold on each "
                       "spatial axis",
    "extract_patches_3d": "use tensor.unfold on each of the three spatial axes",
    "stft": _FFT.format("torch.stft with return_complex=True"),
    "istft": _FFT.format("torch.istft"),
    "gaussian_blur": "use torchvision.transforms.v2.functional.gaussian_blur",
    "hsv_to_rgb": "use kornia.color.hsv_to_rgb (torch and torchvision have no public one)",
    "rgb_to_hsv": "use kornia.color.rgb_to_hsv (torch and torchvision have no public one)",
    "jvp": "use torch.func.jvp",
    "map_coordinates": "use torch.nn.functional.grid_sample (coordinates scaled to [-1, 1])",
    "perspective_transform": "use torchvision.transforms.v2.functional.perspective",
    "rearrange": "use einops.rearrange (it works on torch tensors) or reshape/permute",
    "scale_and_translate": "use torch.nn.functional.interpolate, or affine_grid with "
                           "grid_sample",
    "sobel_edges": "use torch.nn.functional.conv2d with Sobel kernels (or "
                   "kornia.filters.spatial_gradient)",
    "ssim": "use torchmetrics.functional.structural_similarity_index_measure",
    "vectorize": "use torch.vmap, or fitorch.ops.vectorized_map",
}


def missing_attribute(module: str, name: str) -> AttributeError:
    """The error for ``module.name``: with a hint when Keras has the name, plain otherwise."""
    hint = HINTS.get(name)
    if hint is None:
        return AttributeError(f"module {module!r} has no attribute {name!r}")
    return AttributeError(f"{module}.{name} is not available in fitorch.ops: {hint}")
