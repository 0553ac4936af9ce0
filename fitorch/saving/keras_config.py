"""Keras layer configs <-> fitorch layers, and Keras compile configs <-> ``compile``.

fitorch's Keras-semantics layers take Keras's constructor arguments, so translating a layer is
mostly a matter of dropping what Keras writes and fitorch has no use for. A key is dropped only
when its value changes nothing (a ``None`` constraint, ``unroll``); any other key fitorch's layer
does not take is refused with the layer's name and the key, never silently ignored. Nothing in a
config is executed: classes come from fitorch's own layers (or ``custom_objects``), and a
``Lambda`` is refused in safe mode and never rebuilt from marshalled bytecode.
"""

from __future__ import annotations

import inspect
import warnings
from typing import Any

from torch import nn

from fitorch import layers as ft_layers
from fitorch.layers.base import Layer

__all__ = ["KERAS_LAYERS", "layer_from_keras", "layer_to_keras", "compile_from_keras",
           "compile_to_keras"]

# fitorch layers that are Keras layers of the same name, arguments and weights
KERAS_LAYERS = frozenset("""
Dense Activation Identity Dropout SpatialDropout1D SpatialDropout2D SpatialDropout3D InputLayer
Rescaling Conv1D Conv2D Conv3D Conv1DTranspose Conv2DTranspose Conv3DTranspose DepthwiseConv1D
DepthwiseConv2D SeparableConv1D SeparableConv2D MaxPooling1D MaxPooling2D MaxPooling3D
AveragePooling1D AveragePooling2D AveragePooling3D GlobalMaxPooling1D GlobalMaxPooling2D
GlobalMaxPooling3D GlobalAveragePooling1D GlobalAveragePooling2D GlobalAveragePooling3D
BatchNormalization LayerNormalization Embedding SimpleRNN LSTM GRU Bidirectional TimeDistributed
MultiHeadAttention Flatten Reshape Permute RepeatVector ZeroPadding1D ZeroPadding2D ZeroPadding3D
Cropping1D Cropping2D Cropping3D UpSampling1D UpSampling2D UpSampling3D Add Subtract Multiply
Average Maximum Minimum Concatenate Dot ReLU LeakyReLU ELU Softmax PReLU GaussianNoise
GaussianDropout
""".split())

# Keys Keras writes that fitorch's layers do not take, with the value that makes them no-ops.
_NO_OP_VALUES: dict[str, Any] = {
    "quantization_config": None, "lora_rank": None, "lora_alpha": None, "synchronized": False,
    "renorm": False, "renorm_clipping": None, "rms_scaling": False, "use_gate": False,
    "sliding_window": None, "sparse": False, "ragged": False, "optional": False,
    "input_length": None, "activity_regularizer": None, "time_major": False,
    "stateful": False, "zero_output_for_mask": False,
}
# Keys that never change what a layer computes here: unroll/implementation pick a loop
# strategy, renorm_momentum only matters with renorm (refused above), and a seed only seeds
# dropout noise.
_IGNORED_KEYS = frozenset({"unroll", "implementation", "renorm_momentum", "seed"})
_BASE_KEYS = frozenset({"name", "trainable", "dtype", "input_shape", "batch_input_shape",
                        "input_dim", "batch_size", "activity_regularizer"})


# Sizes a config may ask for: a crafted file must not make the loader allocate terabytes
# before the weights file is compared with the layers.
_SIZE_KEYS = frozenset({"units", "filters", "input_dim", "output_dim", "num_heads", "key_dim",
                        "value_dim", "n"})
MAX_SIZE_ARG = 1 << 24


def _is_no_op(key: str, value: Any) -> bool:
    if key in _IGNORED_KEYS or (key.endswith("_constraint") and value is None):
        return True
    return key in _NO_OP_VALUES and value == _NO_OP_VALUES[key]


# ---------------------------------------------------------------------------- Keras -> fitorch
def _where(config: dict, class_name: str) -> str:
    return f"Keras layer {config.get('name')!r} ({class_name})"


def _dtype_name(value: Any, where: str) -> Any:
    if isinstance(value, dict) and value.get("class_name") in ("DTypePolicy", "Policy"):
        value = (value.get("config") or {}).get("name")
    if value is None or value in ("float16", "float32", "float64", "bfloat16", "int32",
                                  "int64", "int8", "int16", "uint8", "bool"):
        return value
    raise ValueError(f"{where}: dtype policy {value!r} is not one fitorch layers take "
                     "(mixed-precision policies are not; use a float dtype); refused")


def _plain_object(value: Any, key: str, where: str) -> Any:
    """An initializer / regularizer entry as fitorch's ``get`` takes it."""
    if not isinstance(value, dict):
        return value
    if "class_name" not in value:
        raise ValueError(f"{where}: {key}={value!r} is not a Keras object entry; refused")
    config = dict(value.get("config") or {})
    for unused in ("input_axes", "output_axes"):  # Keras 3.13's initializer fan axes
        if config.get(unused) is None:
            config.pop(unused, None)
    if value.get("registered_name") not in (None, value["class_name"]) or \
            not str(value.get("module") or "keras").startswith("keras"):
        raise ValueError(f"{where}: {key} is a custom object {value.get('registered_name')!r} "
                         f"from module {value.get('module')!r}, which fitorch cannot rebuild; "
                         "refused")
    return {"class_name": value["class_name"], "config": config}


def layer_from_keras(entry: Any, custom_objects: dict[str, Any], safe_mode: bool,
                     source: str) -> nn.Module:
    """A fitorch layer from one Keras layer entry (``{"class_name", "config", ...}``)."""
    if not isinstance(entry, dict) or not isinstance(entry.get("class_name"), str) or \
            not isinstance(entry.get("config"), dict):
        raise ValueError(f"{source}: a layer entry {entry!r:.100} lacks class_name/config; the "
                         "file is damaged")
    class_name, config = entry["class_name"], dict(entry["config"])
    where = f"{source}: {_where(config, class_name)}"
    if class_name == "Lambda":
        return _lambda_from_keras(config, safe_mode, where)
    cls = custom_objects.get(class_name)
    if cls is None and class_name in ("Sequential", "Functional", "Model"):
        raise ValueError(f"{where} is a model nested inside the model; fitorch does not rebuild "
                         "nested Keras models yet: flatten it into one model in Keras first")
    if cls is None:
        if class_name not in KERAS_LAYERS:
            raise ValueError(f"{where} is a class fitorch has no equivalent of; fitorch "
                             f"rebuilds {', '.join(sorted(KERAS_LAYERS))}. Pass "
                             f"custom_objects={{{class_name!r}: a fitorch Layer class}} if "
                             "you have one")
        cls = getattr(ft_layers, class_name)
    params = inspect.signature(cls.__init__).parameters
    takes_kwargs = any(p.kind is p.VAR_KEYWORD for p in params.values())
    accepted = {n for n in params if n != "self"} | (_BASE_KEYS if takes_kwargs else set())
    kwargs: dict[str, Any] = {}
    for key, value in config.items():
        if key == "dtype":
            value = _dtype_name(value, where)
        elif key in ("layer", "backward_layer") and isinstance(value, dict):
            value = layer_from_keras(value, custom_objects, safe_mode, source)
        elif key.endswith(("_initializer", "_regularizer")):
            value = _plain_object(value, key, where)
        elif isinstance(value, dict) and "class_name" in value:
            raise ValueError(f"{where}: {key} is a Keras object {value['class_name']!r}, which "
                             "fitorch cannot rebuild; refused")
        if class_name == "MultiHeadAttention" and key == "attention_axes" and value == [1]:
            value = None  # what Keras records once built on (batch, time, features) inputs
        if key == "batch_shape" and class_name != "InputLayer":
            key = "batch_input_shape"
        if key in _SIZE_KEYS and isinstance(value, int) and not 0 <= value <= MAX_SIZE_ARG:
            raise ValueError(f"{where} sets {key}={value}, outside 0..{MAX_SIZE_ARG}; refused")
        if key in accepted:
            kwargs[key] = value
        elif not _is_no_op(key, value):
            raise ValueError(f"{where} sets {key}={value!r}, which fitorch's {cls.__name__} "
                             "cannot honour; refused (nothing is silently dropped)")
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{where}: fitorch's {cls.__name__} refuses its config: {e}") from e


def _lambda_from_keras(config: dict, safe_mode: bool, where: str) -> nn.Module:
    if safe_mode:
        raise ValueError(f"{where} is a Lambda layer, i.e. Python code; refused in safe mode "
                         "(nothing from it ran). If you trust the file, pass safe_mode=False "
                         "and the function in custom_objects={'its name': function}")
    function = config.get("function")
    name = function.get("config") if isinstance(function, dict) else None
    if not (isinstance(function, dict) and function.get("class_name") == "function"
            and isinstance(name, str)):
        raise ValueError(f"{where} is a Lambda holding marshalled Python bytecode, which fitorch "
                         "never loads, even with safe_mode=False: rebuild the layer in code")
    rest = {k: v for k, v in config.items() if k not in ("function", "output_shape", "arguments",
                                                          "mask", "function_type",
                                                          "output_shape_type", "module",
                                                          "output_shape_module")}
    rest["dtype"] = _dtype_name(rest.get("dtype"), where)
    output_shape = config.get("output_shape")
    if isinstance(output_shape, dict):
        raise ValueError(f"{where}: output_shape is a function; only a shape is supported")
    return ft_layers.Lambda.from_config({**rest, "function": {"python_function": name},
                                         "output_shape": output_shape,
                                         "arguments": config.get("arguments") or {}})


# ---------------------------------------------------------------------------- fitorch -> Keras
def _keras_class(layer: nn.Module, where: str) -> str:
    name = type(layer).__name__
    if not isinstance(layer, Layer) or name not in KERAS_LAYERS or \
            getattr(ft_layers, name, None) is not type(layer):
        kind = "a plain torch module" if not isinstance(layer, Layer) else \
            f"a {name}, which is not one of the layers Keras and fitorch share"
        raise ValueError(f"{where} is {kind}: a .keras file holds Keras layers only, so Keras "
                         "could not rebuild it. Save the model as .fitorch instead (it keeps "
                         "any torch module), or build it from fitorch's Keras layers")
    return name


def _keras_entry(class_name: str, config: dict) -> dict:
    return {"module": "keras.layers", "class_name": class_name, "config": config,
            "registered_name": None}


def _config_to_keras(class_name: str, config: dict, where: str) -> dict:
    config = dict(config)
    for key in ("layer", "backward_layer"):
        inner = config.get(key)
        if isinstance(inner, dict) and "class_name" in inner:
            config[key] = _keras_entry(inner["class_name"],
                                       _config_to_keras(inner["class_name"], inner["config"],
                                                        where))
    for key in ("input_shape", "input_dim", "batch_size", "input_length"):
        if config.get(key) is None:
            config.pop(key, None)
    if class_name != "InputLayer":  # Keras 3 declares shapes on an InputLayer, written apart
        config.pop("batch_input_shape", None)
    return config


def layer_to_keras(layer: Any, where: str) -> dict:
    """Keras's ``{"module", "class_name", "config", "registered_name"}`` entry for a layer."""
    class_name = _keras_class(layer, where)
    try:
        config = layer.get_config()
    except ValueError as e:
        raise ValueError(f"{where}: {e}") from e
    return _keras_entry(class_name, _config_to_keras(class_name, config, where))


# ---------------------------------------------------------------------------- compile configs
_KERAS_OPTIMIZER_DEFAULTS = {"use_ema": False, "ema_momentum": 0.99, "ema_overwrite_frequency": None,
                             "loss_scale_factor": None, "gradient_accumulation_steps": None,
                             "global_clipnorm": None, "clipnorm": None, "clipvalue": None,
                             "centered": False, "decay": 0.0, "is_legacy_optimizer": False,
                             "jit_compile": True}


def compile_from_keras(model: Any, compile_config: Any, custom_objects: dict[str, Any],
                       source: str) -> None:
    """``model.compile(...)`` from Keras's ``compile_config`` where fitorch has the same names;
    otherwise a warning says what could not be restored and the model stays uncompiled."""
    from fitorch import optimizers

    if not isinstance(compile_config, dict):
        return
    from fitorch import losses, metrics as ft_metrics

    try:
        optimizer = _optimizer_from_keras(compile_config.get("optimizer"), optimizers)
        loss = _objects(compile_config.get("loss"), losses, "loss")
        metrics = _objects(compile_config.get("metrics"), ft_metrics, "metrics")
        weighted = _objects(compile_config.get("weighted_metrics"), ft_metrics,
                            "weighted_metrics")
        loss_weights = compile_config.get("loss_weights")
        model.compile(optimizer=optimizer, loss=loss, metrics=metrics, weighted_metrics=weighted,
                      loss_weights=loss_weights)
    except (ValueError, TypeError, KeyError) as e:
        warnings.warn(f"{source}: the model was saved compiled, but its compile config cannot "
                      f"be restored in fitorch ({e}); it is returned uncompiled: call "
                      "model.compile(...) yourself", stacklevel=3)


def _optimizer_from_keras(entry: Any, optimizers: Any) -> Any:
    if entry is None or isinstance(entry, str):
        return entry or "rmsprop"
    name = entry.get("class_name") if isinstance(entry, dict) else None
    spec = next((c for c in optimizers.SPECS.values() if c.__name__ == name), None)
    if spec is None:
        raise ValueError(f"optimizer {name!r} has no fitorch equivalent")
    config = dict(entry.get("config") or {})
    accepted = set(spec().get_config())
    kwargs = {}
    for key, value in config.items():
        if key in accepted:
            kwargs[key] = value
        elif key in _KERAS_OPTIMIZER_DEFAULTS and value == _KERAS_OPTIMIZER_DEFAULTS[key]:
            continue
        elif isinstance(value, dict):
            raise ValueError(f"optimizer {name} {key} is a {value.get('class_name')} object")
        else:
            raise ValueError(f"optimizer {name} sets {key}={value!r}, which fitorch's {name} "
                             "does not take")
    return spec(**kwargs)


# what Keras writes in loss / metric configs that changes nothing in fitorch's
_OBJECT_NO_OPS = {"dtype": "float32", "ignore_class": None, "label_weights": None,
                  "reduction": "sum_over_batch_size"}


def _objects(value: Any, namespace: Any, what: str) -> Any:
    """Loss / metric entries: names as they are, Keras objects as fitorch's class of the same
    name (``ValueError`` when fitorch has none or refuses a setting)."""
    if isinstance(value, list):
        return [_objects(v, namespace, what) for v in value]
    if isinstance(value, dict) and "class_name" not in value:
        return {k: _objects(v, namespace, what) for k, v in value.items()}
    if not isinstance(value, dict):
        return _names_only(value, what)
    name = value["class_name"]
    cls = getattr(namespace, str(name), None)
    if not isinstance(cls, type) or not str(value.get("module") or "keras").startswith("keras"):
        raise ValueError(f"{what} {name!r} has no fitorch class of that name")
    config = {k: v for k, v in (value.get("config") or {}).items()
              if not (k in _OBJECT_NO_OPS and v == _OBJECT_NO_OPS[k])}
    try:
        return cls(**config)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{what} {name}: fitorch's class refuses {config}: {e}") from e


def _keras_objects_as_names(value: Any) -> Any:
    """The entries ``_objects_to_keras`` wrote replaced by their class names (for checking)."""
    if isinstance(value, list):
        return [_keras_objects_as_names(v) for v in value]
    if isinstance(value, dict):
        if "class_name" in value and "config" in value:
            return value["class_name"]
        return {k: _keras_objects_as_names(v) for k, v in value.items()}
    return value


def _names_only(value: Any, what: str) -> Any:
    """Loss and metric entries: Keras names (strings) in lists / dicts; objects are refused."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, list):
        return [_names_only(v, what) for v in value]
    if isinstance(value, dict) and "class_name" not in value:
        return {k: _names_only(v, what) for k, v in value.items()}
    raise ValueError(f"{what} {value!r:.120} is a Keras object, not a name")


def _objects_to_keras(value: Any, namespace: Any, module: str) -> Any:
    """Loss / metric entries with fitorch objects of Keras's classes (``losses.Huber(0.5)``)
    written as Keras writes them; the arguments left at their defaults are left out, so Keras
    fills in its own (fitorch's classes take a few more, such as ``axis``). Anything else is
    returned as it is, for ``_names_only`` to accept or refuse."""
    if isinstance(value, list):
        return [_objects_to_keras(v, namespace, module) for v in value]
    if isinstance(value, dict):
        return {k: _objects_to_keras(v, namespace, module) for k, v in value.items()}
    cls = type(value)
    if getattr(namespace, cls.__name__, None) is not cls or not hasattr(value, "get_config"):
        return value
    defaults = {name: p.default for name, p in inspect.signature(cls).parameters.items()
                if p.default is not inspect.Parameter.empty}
    config = {k: v for k, v in value.get_config().items()
              if k == "name" or k not in defaults or defaults[k] != v}
    return {"module": module, "class_name": cls.__name__, "config": config,
            "registered_name": None}


def compile_to_keras(model: Any) -> dict | None:
    """Keras's ``compile_config`` for a compiled fitorch model, or ``None`` with a warning when
    its optimizer, loss or metrics are not Keras names, fitorch objects of Keras's loss and
    metric classes, or fitorch optimizer specs."""
    from fitorch import losses, metrics as ft_metrics
    from fitorch.optimizers import Optimizer

    if not getattr(model, "compiled", False):
        return None
    config = model._config
    optimizer = config.optimizer_spec
    if isinstance(optimizer, Optimizer):
        optimizer = {"module": "keras.optimizers", "class_name": type(optimizer).__name__,
                     "config": optimizer.get_config(), "registered_name": None}
    weights = getattr(config.compiled_loss, "loss_weights", None) \
        if config.compiled_loss is not None else None
    entry = {"optimizer": optimizer,
             "loss": _objects_to_keras(config.loss_spec, losses, "keras.losses"),
             "loss_weights": weights,
             "metrics": _objects_to_keras(config.metrics_spec, ft_metrics, "keras.metrics"),
             "weighted_metrics": _objects_to_keras(config.weighted_metrics_spec, ft_metrics,
                                                   "keras.metrics"),
             "run_eagerly": False, "steps_per_execution": 1, "jit_compile": False}
    try:
        if not isinstance(optimizer, (str, dict)):
            raise ValueError(f"optimizer {optimizer!r}")
        for key in ("loss", "metrics", "weighted_metrics"):
            _names_only(_keras_objects_as_names(entry[key]), key)
        if weights is not None and not all(isinstance(w, (int, float)) for w in (
                weights.values() if isinstance(weights, dict) else weights)):
            raise ValueError(f"loss_weights {weights!r}")
    except ValueError as e:
        warnings.warn(f"save: the model is compiled with {e}, which a .keras file cannot "
                      "name; it is saved without its compile config", stacklevel=3)
        return None
    return entry
