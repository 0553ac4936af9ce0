"""torchkeras's ``summary(model, input_shape)``: the torchsummary table the seed prints.

The forward pass with hooks, the output shapes and the memory figures come from
:func:`fitorch.summary`; this module picks torchsummary's rows (the innermost modules, numbered
in call order) and counts parameters as torch does, with torchsummary's mistakes fixed: a module
used twice counts its parameters once in the totals, and parameters held directly by a module
that also has children are counted (and get a row).
"""

from __future__ import annotations

from typing import Any, Callable

import torch
from torch import nn

__all__ = ["summary"]

_WIDTH = 64  # torchsummary's rule: "{:>20}  {:>25} {:>15}" plus one


def _input_dtype(input_dtype: Any) -> torch.dtype:
    """``torch.FloatTensor`` / ``torch.LongTensor`` (torchkeras's spelling) or a ``torch.dtype``."""
    try:
        return torch.empty(0).type(input_dtype).dtype
    except (TypeError, ValueError, RuntimeError) as err:
        raise ValueError(f"summary: input_dtype={input_dtype!r}: expected a tensor type such as "
                         "torch.FloatTensor / torch.LongTensor, or a torch.dtype") from err


def _unique_parameters(module: nn.Module, recurse: bool = True) -> list[nn.Parameter]:
    return list({id(p): p for p in module.parameters(recurse=recurse)}.values())


def summary(model: nn.Module, input_shape: Any, input_dtype: Any = torch.FloatTensor,
            batch_size: int = -1, print_fn: Callable[[str], Any] = print) -> None:
    """Print the torchsummary table of ``model`` for inputs of ``input_shape`` (no batch axis;
    a list of shapes for several inputs), as torchkeras did.

    Rows are the innermost modules in call order (``Linear-1``, ...), output shapes with the
    batch as ``batch_size`` (-1: any), then parameter totals (torch parameters, each once) and
    the sizes in MB of the input, of the outputs kept for the backward pass and of the
    parameters.
    """
    from fitorch.summaries import summary as module_summary
    from fitorch.training.compile_config import has_lazy_parameters

    if not isinstance(model, nn.Module):
        raise TypeError(f"summary: model={model!r} is not an nn.Module")
    dtype = _input_dtype(input_dtype)
    if has_lazy_parameters(model):
        raise ValueError(f"summary: {type(model).__name__} has layers that are not built yet; "
                         "run it once on a batch first, or use fitorch.summary, which builds a "
                         "copy")
    modules = dict(model.named_modules())
    depth = max([name.count(".") + 1 for name in modules if name] or [1])
    data = module_summary(model, input_shape=input_shape, batch_size=batch_size, depth=depth,
                          dtypes=dtype, verbose=0)
    lines = ["-" * _WIDTH, "{:>20}  {:>25} {:>15}".format("Layer (type)", "Output Shape",
                                                         "Param #"), "=" * _WIDTH]
    number = 0
    for row in data.rows:
        if row["output_shape"] is None:  # a container that is never called (ModuleList)
            continue
        module = modules.get(row["path"], model)  # the model itself when it has no children
        own = _unique_parameters(module, recurse=False)
        if module._modules and not own:  # a container: its inner modules have the rows
            continue
        number += 1
        lines.append("{:>20}  {:>25} {:>15}".format(
            f"{type(module).__name__}-{number}", str(row["output_shape"]),
            f"{sum(p.numel() for p in own):,}"))
    params = _unique_parameters(model)
    total = sum(p.numel() for p in params)
    trainable = sum(p.numel() for p in params if p.requires_grad)
    params_mb = sum(p.numel() * p.element_size() for p in params) / 1024 ** 2
    total_mb = data.input_size_mb + data.forward_backward_size_mb + params_mb
    lines += ["=" * _WIDTH, f"Total params: {total:,}", f"Trainable params: {trainable:,}",
              f"Non-trainable params: {total - trainable:,}", "-" * _WIDTH,
              f"Input size (MB): {data.input_size_mb:.6f}",
              f"Forward/backward pass size (MB): {data.forward_backward_size_mb:.6f}",
              f"Params size (MB): {params_mb:.6f}",
              f"Estimated Total Size (MB): {total_mb:.6f}", "-" * _WIDTH]
    print_fn("\n".join(lines))
