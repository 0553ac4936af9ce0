"""``Model``: an ``nn.Module`` that also compiles, fits, evaluates and predicts.

Three ways in, as in Keras:

* subclass it (``__init__`` + ``forward``, or Keras's ``build(input_shape)`` + ``call``);
* wrap any module: ``Model(net)`` returns ``net`` itself seen through a ``Model`` subclass of its
  class, so ``print``, ``state_dict`` keys and parameters are the module's own;
* ``Model(inputs, outputs)`` builds a graph model (:mod:`fitorch.models.functional`).

Training configuration and the state of a running ``fit`` live in one plain attribute (``_ft``)
that is not an ``nn.Module``, so it never appears in ``print(model)``, ``state_dict()`` or
``parameters()``; it is transient, so ``torch.save(model)`` and ``copy.deepcopy(model)`` leave it
out (see ``CompileConfig``).
"""

from __future__ import annotations

import functools
from typing import Any, cast

import torch
from torch import nn

from fitorch.layers.base import (KerasWeights, Layer, add_loss, keras_to_storage,
                                 keras_weight_entries, module_losses, yields_to_attribute)
from fitorch.layers.call_context import with_training_default
from fitorch.metrics import Metric
from fitorch.models import providers
from fitorch.models.configs import model_class, register_model_class
from fitorch.models.symbolic import KerasTensor
from fitorch.torch_utils import module_device
from fitorch.training.compile_config import CompileConfig
from fitorch.training.data import dummy_forward
from fitorch.training.sharding import full_state_dict, load_full_state_dict


def _is_symbolic(value: Any) -> bool:
    if isinstance(value, KerasTensor):
        return True
    if isinstance(value, (list, tuple)):
        return bool(value) and all(_is_symbolic(v) for v in value)
    if isinstance(value, dict):
        return bool(value) and all(_is_symbolic(v) for v in value.values())
    return False


def _trainer(model: Model) -> Any:
    # the loops live in fitorch.training.trainer, a layer above; it registers its Trainer
    return providers.provided("Trainer")(model)


def _functional_subclass(cls: type) -> type:
    """``cls`` itself if it is already a graph model, else a subclass of ``cls`` and Functional
    that shows itself as ``cls``, made once and kept on ``cls`` itself: a global cache would
    keep a user's class (and, through its methods, its module's globals) alive for good."""
    functional = model_class("Functional")
    if issubclass(cls, functional):
        return cls
    made = cls.__dict__.get("_fitorch_functional_subclass")
    if made is None:
        made = type(cls.__name__, (cls, functional), {
            "__module__": cls.__module__, "__qualname__": cls.__qualname__})
        type.__setattr__(cls, "_fitorch_functional_subclass", made)
    return made


@functools.lru_cache(maxsize=None)
def _wrapper_class(module_cls: type[nn.Module]) -> type[Any]:
    """A subclass of ``module_cls`` and ``Model`` that shows itself as ``module_cls``."""

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        # The instance is built in Model.__new__ around an existing module; Python calls
        # __init__ again afterwards with the wrapped module as argument: nothing to do.
        pass

    bases = (module_cls,) if issubclass(module_cls, Model) else (module_cls, Model)
    return type(module_cls.__name__, bases, {
        "__init__": __init__, "forward": with_training_default(module_cls.forward), "__module__": module_cls.__module__,
        "__qualname__": module_cls.__qualname__, "_fitorch_wrapped": True})


@register_model_class
class Model(KerasWeights, nn.Module):
    """A ``torch.nn.Module`` with the Keras training API.

    ``Model(net)`` wraps an existing module (sharing its parameters and attributes),
    ``Model(inputs=..., outputs=...)`` builds a functional graph model, and subclasses define
    ``forward`` (or Keras's ``call``).
    """

    _fitorch_wrapped = False

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        if cls is not Model:
            if "inputs" in kwargs or (args and _is_symbolic(args[0])):
                # Keras's ``CustomModel(inputs, outputs)``: a graph model with the subclass's
                # methods (a Functional subclass of ``cls``, made once per class)
                return super().__new__(_functional_subclass(cls))
            return super().__new__(cls)
        if "inputs" in kwargs or (args and _is_symbolic(args[0])):
            return super().__new__(model_class("Functional"))
        if len(args) == 1 and not kwargs and isinstance(args[0], nn.Module):
            net = args[0]
            # (the ignore: typeshed's lru_cache wants Hashable arguments, and mypy finds a class
            # object's __hash__ to be its instances' one, which torch's stubs type otherwise)
            wrapped = super().__new__(_wrapper_class(type(net)))  # type: ignore[arg-type]
            # Share the module's state: the wrapper *is* the module, with the training API.
            object.__setattr__(wrapped, "__dict__", net.__dict__)
            return wrapped
        if args or kwargs:
            raise TypeError(
                "Model(...) takes an nn.Module to wrap (Model(net)), or inputs= and outputs= "
                f"symbolic tensors (Model(inputs, outputs)); got args={args!r} kwargs={kwargs!r}")
        return super().__new__(cls)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Reached for subclasses (args are theirs) and for bare Model().
        super().__init__()
        if self._has_custom_build:
            # Keras builds on the first call; the hook removes itself once built.
            self.__dict__["_build_hook"] = self.register_forward_pre_hook(_build_on_first_call)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Keras subclasses define call(); make it the forward itself (no extra frame per step).
        if "call" in cls.__dict__ and "forward" not in cls.__dict__:
            cls.forward = cls.__dict__["call"]
        if "forward" in cls.__dict__:
            # call(x, training=None) gets True in fit, False in evaluate/predict (the mode)
            cls.forward = with_training_default(cls.__dict__["forward"])
        if "build" in cls.__dict__ and not cls.__dict__.get("_fitorch_wrapped", False):
            cls._has_custom_build = True

    _has_custom_build = False

    def call(self, *args: Any, **kwargs: Any) -> Any:
        """Keras spelling of ``forward``."""
        return self.forward(*args, **kwargs)

    # ------------------------------------------------------------------ building
    @property
    def built(self) -> bool:
        """Whether ``build`` ran (always true for models without a custom ``build``)."""
        return self.__dict__.get("_built", not self._has_custom_build)

    @built.setter
    def built(self, value: bool) -> None:
        self.__dict__["_built"] = bool(value)

    def build(self, input_shape: Any = None) -> None:
        """Create the weights for ``input_shape`` (batch dimension ``None``).

        Keras subclasses override it to create their layers and call ``super().build``; the
        base runs one forward pass on zeros so lazy sublayers get their parameters too.
        """
        self.__dict__["_built"] = True
        self.__dict__["_build_input_shape"] = input_shape
        if input_shape is not None:
            dummy_forward(self, input_shape)

    # ------------------------------------------------------------------ training state
    @property
    def compiled(self) -> bool:
        """Whether ``compile`` was called."""
        return self.__dict__.get("_ft") is not None

    @property
    def _config(self) -> CompileConfig:
        config = self.__dict__.get("_ft")
        if config is None:
            raise RuntimeError(
                f"{type(self).__name__} must be compiled before training or evaluation: call "
                "model.compile(optimizer=..., loss=..., metrics=...) first.")
        return config

    @property
    def optimizer(self) -> torch.optim.Optimizer | None:
        """The torch optimizer (built at compile, or at the first batch for lazy layers).

        Before ``compile`` it is a plain attribute, so the seed's function style
        (``model.optimizer = torch.optim.SGD(...)``) works on a ``Model`` too.
        """
        config = self.__dict__.get("_ft")
        return self.__dict__.get("optimizer") if config is None else config.optimizer

    @optimizer.setter
    def optimizer(self, value: Any) -> None:
        config = self.__dict__.get("_ft")
        if config is None:
            self.__dict__["optimizer"] = value
        else:
            config.set_optimizer(value, self)

    @property
    def lr_scheduler(self) -> Any:
        """The torch LR scheduler given to ``compile``, if any."""
        config = self.__dict__.get("_ft")
        return None if config is None else config.lr_scheduler

    @property
    def loss(self) -> Any:
        """The loss given to ``compile``."""
        config = self.__dict__.get("_ft")
        return None if config is None else config.loss_spec

    @property
    def stop_training(self) -> bool:
        """Set to ``True`` (e.g. from a callback) to stop ``fit`` after the current batch."""
        config = self.__dict__.get("_ft")
        return False if config is None else config.stop_training

    @stop_training.setter
    def stop_training(self, value: bool) -> None:
        config = self.__dict__.get("_ft")
        if config is None:
            raise RuntimeError(f"{type(self).__name__}.stop_training stops a running fit; the "
                               "model is not compiled, so there is no fit to stop")
        config.stop_training = bool(value)

    @property
    def history(self) -> Any:
        """The ``History`` of the last ``fit`` call."""
        config = self.__dict__.get("_ft")
        return None if config is None else config.history

    @property
    def _fit_state(self) -> Any:
        """Where the running ``fit`` is (a ``training.fit_state.FitState``), for callbacks."""
        return self._config.fit_state

    @property
    def metrics_names(self) -> list[str]:
        """``["loss", <metric names>...]``, the order of ``evaluate`` / ``*_on_batch`` results."""
        return self._config.metrics_names()

    @property
    def device(self) -> torch.device:
        """Where the model's parameters live (its first parameter or buffer)."""
        return module_device(self) or torch.device("cpu")

    def compile(
        self,
        optimizer: Any = "rmsprop",
        loss: Any = None,
        metrics: Any = None,
        loss_weights: Any = None,
        lr_scheduler: Any = None,
        weighted_metrics: Any = None,
        run_eagerly: bool = False,
        steps_per_execution: int = 1,
        jit_compile: bool = False,
        device: Any = None,
        precision: str | None = None,
        gradient_accumulation_steps: int = 1,
        strategy: Any = "auto",
    ) -> None:
        """Configure training: optimizer, loss(es), metrics, LR scheduler, device, precision.

        Accepts objects, classes, callables and Keras string names (``"adam"``, ``"mse"``,
        ``"accuracy"``...). Losses and metrics may be lists or dicts per output. ``strategy``
        matters under several processes: ``"auto"``/``"ddp"`` (data parallel), ``"fsdp"`` (the
        model sharded across processes) or an accelerate ``FullyShardedDataParallelPlugin``.
        """
        del run_eagerly, steps_per_execution  # Keras arguments with no meaning here: eager always
        config = CompileConfig(
            self, optimizer=optimizer, loss=loss, metrics=metrics, loss_weights=loss_weights,
            lr_scheduler=lr_scheduler, weighted_metrics=weighted_metrics, jit_compile=jit_compile,
            device=device, precision=precision,
            gradient_accumulation_steps=gradient_accumulation_steps, strategy=strategy)
        self.__dict__["_ft"] = config  # only after every argument was validated

    # ------------------------------------------------------------------ loops
    def fit(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: int | None = None,
        epochs: int = 1,
        verbose: Any = "auto",
        callbacks: list | None = None,
        validation_split: float = 0.0,
        validation_data: Any = None,
        shuffle: bool = True,
        class_weight: dict | None = None,
        sample_weight: Any = None,
        initial_epoch: int = 0,
        steps_per_epoch: int | None = None,
        validation_steps: int | None = None,
        validation_batch_size: int | None = None,
        validation_freq: int = 1,
        on_nan: str = "raise",
        check_finite: bool = True,
    ) -> Any:
        """Train for ``epochs`` epochs and return a ``History``.

        ``x`` may be tensors, arrays, lists/tuples/dicts of them, a DataFrame, a ``Dataset``, a
        ``DataLoader`` (used as given), or a generator yielding ``(x, y[, sample_weight])``.
        ``on_nan``: ``"raise"`` (default) stops with an error naming the epoch and step where the
        loss became NaN or infinite, ``"stop"`` stops with a warning, ``"ignore"`` trains on,
        ``"restore"`` stops with a warning after putting back the weights and optimizer state
        from the start of that epoch. In-memory data is checked before anything changes (see
        docs/training.md); ``check_finite=False`` skips its NaN/inf scan.
        """
        return _trainer(self).fit(
            x, y, batch_size=batch_size, epochs=epochs, verbose=verbose, callbacks=callbacks,
            validation_split=validation_split, validation_data=validation_data, shuffle=shuffle,
            class_weight=class_weight, sample_weight=sample_weight, initial_epoch=initial_epoch,
            steps_per_epoch=steps_per_epoch, validation_steps=validation_steps,
            validation_batch_size=validation_batch_size, validation_freq=validation_freq,
            on_nan=on_nan, check_finite=check_finite)

    def evaluate(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: int | None = None,
        verbose: Any = "auto",
        sample_weight: Any = None,
        steps: int | None = None,
        callbacks: list | None = None,
        return_dict: bool = False,
    ) -> Any:
        """Loss and metrics over a dataset: a float (loss only), a list, or a dict."""
        return _trainer(self).evaluate(
            x, y, batch_size=batch_size, verbose=verbose, sample_weight=sample_weight,
            steps=steps, callbacks=callbacks, return_dict=return_dict)

    def predict(
        self,
        x: Any,
        batch_size: int | None = None,
        verbose: Any = "auto",
        steps: int | None = None,
        callbacks: list | None = None,
    ) -> Any:
        """Outputs for ``x``, batch by batch, returned on the CPU (tensors, tuple or dict)."""
        return _trainer(self).predict(x, batch_size=batch_size, verbose=verbose, steps=steps,
                                      callbacks=callbacks)

    def train_on_batch(self, x: Any, y: Any = None, sample_weight: Any = None,
                       class_weight: dict | None = None, reset_metrics: bool = True,
                       return_dict: bool = False) -> Any:
        """One gradient step on one batch; returns that batch's loss and metrics."""
        return _trainer(self).train_on_batch(x, y, sample_weight=sample_weight,
                                             class_weight=class_weight,
                                             reset_metrics=reset_metrics, return_dict=return_dict)

    def test_on_batch(self, x: Any, y: Any = None, sample_weight: Any = None,
                      reset_metrics: bool = True, return_dict: bool = False) -> Any:
        """Loss and metrics on one batch, without training."""
        return _trainer(self).test_on_batch(x, y, sample_weight=sample_weight,
                                            reset_metrics=reset_metrics, return_dict=return_dict)

    def predict_on_batch(self, x: Any) -> Any:
        """Outputs for one batch, on the CPU."""
        return _trainer(self).predict_on_batch(x)

    def reset_metrics(self) -> None:
        """Reset the loss and metric accumulators of training and evaluation, and every metric
        of ``metrics``."""
        self._config.reset_metrics()
        metrics = self.metrics
        if isinstance(metrics, (list, tuple)):  # not a torch model's own ``metrics`` attribute
            for metric in metrics:
                metric.reset_state()

    # ------------------------------------------------------------------ Keras's custom steps
    # Overriding any of these makes fit / evaluate / predict run the model's own step methods
    # with Keras 3's torch-backend contract (fitorch.training.keras_steps); without an
    # override the trainer's built-in step runs, which does the same work faster.
    def train_step(self, data: Any) -> dict[str, Any]:
        """One training step on ``data`` (``x``, ``(x, y)`` or ``(x, y, sample_weight)``):
        forward, ``compute_loss``, backward, ``optimizer.apply``, ``compute_metrics``. Returns
        the logs. Override it to customize what ``fit`` does (Keras's ``train_step``)."""
        return self._config.keras.train_step(self, data)

    def test_step(self, data: Any) -> dict[str, Any]:
        """One evaluation step (no gradients): forward, ``compute_loss``, ``compute_metrics``."""
        return self._config.keras.test_step(self, data)

    def predict_step(self, data: Any) -> Any:
        """The outputs for one batch of ``predict`` (``data``: ``x``, ``(x,)``, ``(x, y)`` or
        ``(x, y, sample_weight)``); several inputs are passed as arguments, a dict by name."""
        x = data[0] if isinstance(data, (tuple, list)) else data
        if isinstance(x, dict):
            return self(**x)
        return self(*x) if isinstance(x, (tuple, list)) else self(x)

    def compute_loss(self, x: Any = None, y: Any = None, y_pred: Any = None,
                     sample_weight: Any = None, training: bool = True) -> torch.Tensor:
        """The compiled loss of ``y_pred`` against ``y`` plus the model's added losses."""
        del x, training  # as in Keras, the default uses neither
        return self._config.keras.compute_loss(self, y, y_pred, sample_weight)

    def compute_metrics(self, x: Any, y: Any, y_pred: Any, sample_weight: Any = None
                        ) -> dict[str, Any]:
        """Update the compiled metrics; return ``get_metrics_result()``."""
        del x
        return self._config.keras.compute_metrics(self, y, y_pred, sample_weight)

    def get_metrics_result(self) -> dict[str, Any]:
        """The result of each of ``metrics`` by name (the compiled metrics' one by one)."""
        results: dict[str, Any] = {}
        for metric in self.metrics:
            value = metric.result()
            if isinstance(value, dict):
                results.update(value)
            else:
                results[metric.name] = value
        return results

    @yields_to_attribute
    def metrics(self) -> list[Metric]:
        """Keras's metric objects, the ones custom steps update and ``fit`` resets each epoch:
        once compiled, the ``"loss"`` tracker and the compiled metrics (one
        ``"compile_metrics"`` entry), then the ``Metric`` s set as attributes of the model and
        of its layers. (The built-in step keeps its own accumulators: see ``metrics_names``.)"""
        config = self.__dict__.get("_ft")
        found = [] if config is None else config.keras.own_metrics()
        for module in self.modules():
            if module is self or not isinstance(module, Model):
                found += [v for v in vars(module).values() if isinstance(v, Metric)]
        return found

    @property
    def compiled_loss(self) -> Any:
        """Keras 2's ``compiled_loss(y, y_pred, sample_weight=None)``: ``compute_loss``, also
        recorded by the ``"loss"`` tracker of ``metrics``."""
        return functools.partial(self._config.keras.compiled_loss, self)

    @property
    def compiled_metrics(self) -> Any:
        """Keras 2's ``compiled_metrics``: ``update_state(y, y_pred, sample_weight=None)``
        updates the metrics given to ``compile``."""
        return self._config.keras.compiled_metrics

    # ------------------------------------------------------------------ introspection
    @yields_to_attribute
    def layers(self) -> list[nn.Module]:
        """The direct sublayers (submodules), in the order they were assigned."""
        return list(submodules(self).values())

    def get_layer(self, name: str | None = None, index: int | None = None) -> nn.Module:
        """A layer of ``layers`` by Keras name (``layer.name``, else its attribute name) or by
        position; exactly one of ``name`` / ``index``."""
        if (name is None) == (index is None):
            raise ValueError(f"get_layer: give exactly one of name= or index=, got "
                             f"name={name!r}, index={index!r}")
        layers = self.layers
        if index is not None:
            if not isinstance(index, int) or not -len(layers) <= index < len(layers):
                raise ValueError(f"get_layer: index={index!r} is out of range for "
                                 f"{len(layers)} layers")
            return layers[index]
        labelled = self._layer_labels()
        for label, layer in labelled:
            if label == name:
                return layer
        raise ValueError(f"get_layer: no layer named {name!r}; layers are "
                         f"{[label for label, _ in labelled]}")

    def _layer_labels(self) -> list[tuple[str, nn.Module]]:
        """(Keras name, layer) for ``get_layer``: ``layer.name``, else the attribute name."""
        return [(_layer_name(attr, layer), layer) for attr, layer in submodules(self).items()]

    @property
    def trainable(self) -> bool:
        """``False`` freezes the model: no parameter gets a gradient (``fit`` leaves them
        unchanged, also when set after ``compile``) and fitorch BatchNormalization layers run
        in inference mode, as in Keras 3. ``True`` unfreezes everything."""
        return self.__dict__.get("_trainable", True)

    @trainable.setter
    def trainable(self, value: bool) -> None:
        if not isinstance(value, bool):
            raise ValueError(f"{type(self).__name__}: trainable={value!r} must be a bool")
        self.__dict__["_trainable"] = value
        for module in self.modules():
            if isinstance(module, Layer):
                module._trainable = value
            elif isinstance(module, Model) and module is not self:
                module.__dict__["_trainable"] = value
        for param in self.parameters():
            param.requires_grad_(value)

    def add_loss(self, loss: Any) -> None:
        """Add a loss term (a tensor or a list of them) from inside ``forward``/``call``, as in
        Keras: ``fit`` minimizes the compiled loss plus every term (summed), and ``evaluate``
        reports that total. A model that adds its own may be compiled without a loss (the Keras
        VAE pattern: ``compile(optimizer="adam")`` then ``fit(x)``)."""
        add_loss(self, loss)

    @yields_to_attribute
    def losses(self) -> list[torch.Tensor]:
        """The loss terms of the latest call (``add_loss`` of the model and its layers) and the
        regularization penalties (weight and activity), as Keras's ``model.losses``."""
        return module_losses(self)

    # ------------------------------------------------------------------ inspection and files
    def summary(self, *args: Any, **kwargs: Any) -> Any:
        """Print the Keras summary table (layers, output shapes, parameter counts)."""
        return providers.provided("model_summary")(self, *args, **kwargs)

    def count_params(self) -> int:
        """Number of parameters, shared ones counted once."""
        return sum(p.numel() for p in {id(p): p for p in self.parameters()}.values())

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> Model:
        """Rebuild a model from ``get_config()``: ``Model.from_config`` builds a functional
        graph model; a subclass is constructed as ``cls(**config)``."""
        if cls is Model:
            return model_class("Functional").from_config(config, custom_objects=custom_objects)
        return cls(**config)

    def save(self, filepath: str, overwrite: bool = False, **kwargs: Any) -> None:
        """Write the model (architecture, weights, compile state) to one ``.fitorch`` file."""
        save_model = providers.provided("save_model")
        save_model(self, filepath, overwrite=overwrite, **kwargs)

    def save_weights(self, filepath: str, overwrite: bool = True) -> None:
        """Write weights and buffers to a ``.safetensors`` file (atomically)."""
        save_weights = providers.provided("save_weights")
        save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath: str, strict: bool = True) -> Any:
        """Load weights from ``.safetensors`` (or a plain state_dict, loaded weights-only)."""
        load_weights = providers.provided("load_weights")
        return load_weights(self, filepath, strict=strict)

    def get_weights(self) -> list:
        """Every weight as a NumPy array, in the order of ``weights``: fitorch layers in Keras's
        layout (so ``model.get_weights()`` is the concatenation of its layers' ``get_weights()``,
        and Keras's arrays load as they are), torch modules as torch stores them. Whole tensors,
        also under FSDP (every process must call it then)."""
        state = full_state_dict(self, rank0_only=False)
        return [to_keras(state[name].detach()).cpu().numpy()
                for name, _, to_keras in keras_weight_entries(self)]

    def set_weights(self, weights: list) -> None:
        """Set every weight from a list in ``get_weights`` order and layout (shapes are checked
        for all of them before anything is written)."""
        converted = keras_to_storage(self, keras_weight_entries(self), weights)
        load_full_state_dict(self, {name: value for name, _, value in converted})


def submodules(module: nn.Module) -> dict[str, nn.Module]:
    """``module._modules`` as the dict of modules a model holds: torch's stubs allow a ``None``
    slot (a submodule attribute set to ``None``), which models list as they always did."""
    return cast(dict[str, nn.Module], module._modules)


def _layer_name(attribute: str, layer: nn.Module) -> str:
    name = getattr(layer, "name", None)
    return name if isinstance(name, str) and name else attribute


def _build_on_first_call(module: Model, args: tuple) -> None:
    if not module.built and args and isinstance(args[0], torch.Tensor):
        module.build((None, *args[0].shape[1:]))
    handle = module.__dict__.pop("_build_hook", None)
    if handle is not None:  # build() itself may have run a forward that got here first
        handle.remove()
