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


def functional_subclass(cls: type) -> type:
    """``cls`` itself if it is already a graph model, else a subclass of ``cls`` and Functional
    that shows itself as ``cls``, made once and kept on ``cls`` itself: a global cache would
    keep a user's class (and, through its methods, its module's globals) alive for good."""
    functional = model_class("Functional")
    if issubclass(cls, functional):
        return cls
    made = cls.__dict__.get("_fitorch_functional_subclass")
    if made is None:
        # it shows itself as cls, so no pickle can name it: pickles name cls and are restored
        # through this function (see fitorch.models.functional_pickle)
        made = type(cls.__name__, (cls, functional), {
            "__module__": cls.__module__, "__qualname__": cls.__qualname__,
            "_fitorch_functional_of": cls})
        type.__setattr__(cls, "_fitorch_functional_subclass", made)
    return made


@functools.lru_cache(maxsize=None)
def _wrapper_class(module_cls: type[nn.Module]) -> type[Any]:
    """A subclass of ``module_cls`` and ``Model`` that shows itself as ``module_cls``."""

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        # The instance is built in Model.__new__ around an existing module; Python calls
        # __init__ again afterwards with the wrapped module as argument: nothing to do.
        pass

    def __reduce_ex__(self: Any, protocol: Any) -> Any:
        # this class shows itself as module_cls, so no pickle can name it: pickles name
        # module_cls and wrap the module again when loaded
        return (_rewrap, (module_cls, self.__getstate__()))

    bases = (module_cls,) if issubclass(module_cls, Model) else (module_cls, Model)
    namespace = {
        "__init__": __init__, "forward": with_training_default(module_cls.forward), "__module__": module_cls.__module__,
        "__qualname__": module_cls.__qualname__, "_fitorch_wrapped": True}
    if module_cls.__reduce_ex__ is object.__reduce_ex__:  # a module's own pickling stands
        namespace["__reduce_ex__"] = __reduce_ex__
    return type(module_cls.__name__, bases, namespace)


def _rewrap(module_cls: type[nn.Module], state: dict) -> Any:
    """A pickled ``Model(net)`` loaded: ``net`` made again from its class and state, wrapped."""
    net = module_cls.__new__(module_cls)
    net.__setstate__(state)
    return Model(net)


@register_model_class
class Model(KerasWeights, nn.Module):
    """A ``torch.nn.Module`` with the Keras training API.

    Three ways to make one, as in Keras:

    * ``Model(net)`` wraps an existing module: it returns ``net`` itself seen through a ``Model``
      subclass of its class, sharing its parameters and attributes (``print``, ``state_dict`` keys
      and ``isinstance(m, type(net))`` are the module's own);
    * ``Model(inputs=..., outputs=...)`` builds a functional graph model from ``ft.Input`` tensors;
    * subclasses define ``__init__`` + ``forward`` (or Keras's ``build(input_shape)`` + ``call``;
      ``call(x, training=None)`` gets ``True`` in ``fit`` and ``False`` in ``evaluate`` /
      ``predict``).

    Anything else given to ``Model`` itself (``Model(3)``, a module and more) raises a
    ``TypeError``. The training configuration (``compile``) lives beside the module, not in it:
    it never appears in ``print(model)``, ``state_dict()`` or ``parameters()``, and
    ``torch.save`` / ``copy.deepcopy`` leave it out.

    Args:
        inputs: the ``ft.Input`` tensor(s) of a functional model (with ``outputs``); a single
            ``nn.Module`` positional argument wraps it instead.
        outputs: the tensor(s) computed from ``inputs``.

    Example:

    >>> net = ft.Model(nn.Linear(3, 1))
    >>> isinstance(net, nn.Linear), isinstance(net, ft.Model)
    (True, True)
    >>> net.compile(optimizer="sgd", loss="mse")
    >>> history = net.fit(torch.randn(8, 3), torch.randn(8, 1), epochs=2, verbose=0)
    >>> history.epoch
    [0, 1]
    >>> inputs = ft.Input((4,))
    >>> graph = ft.Model(inputs, ft.layers.Dense(2)(inputs))
    >>> tuple(graph(torch.ones(5, 4)).shape)
    (5, 2)
    """

    _fitorch_wrapped = False

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        if cls is not Model:
            if "inputs" in kwargs or (args and _is_symbolic(args[0])):
                # Keras's ``CustomModel(inputs, outputs)``: a graph model with the subclass's
                # methods (a Functional subclass of ``cls``, made once per class)
                return super().__new__(functional_subclass(cls))
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
        """Keras's spelling of ``forward``: run the model on its inputs.

        Subclasses that define ``call`` (and no ``forward``) have it used as their ``forward``.

        Args:
            *args: the inputs, as ``forward`` takes them.
            **kwargs: keyword inputs (``training=``, ``mask=``...).

        Returns:
            What ``forward`` returns.

        Example:

        >>> net = ft.Model(nn.Linear(3, 2))
        >>> tuple(net.call(torch.ones(4, 3)).shape)
        (4, 2)
        """
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

        Keras subclasses override it to create their layers and call ``super().build``; the base
        records the shape and runs one forward pass on zeros so lazy sublayers (``ft.layers.Dense``
        without an input size, torch's ``Lazy*``) get their parameters too. A subclass with its own
        ``build`` is built on its first call if ``build`` was not called.

        Args:
            input_shape: the input's shape, batch first (``None`` allowed there), e.g.
                ``(None, 3)``; ``None`` only marks the model built.

        Example:

        >>> class Net(ft.Model):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.dense = ft.layers.Dense(2)
        ...     def call(self, x):
        ...         return self.dense(x)
        >>> net = Net()
        >>> net.build((None, 3))
        >>> net.built, net.count_params()
        (True, 8)
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
        """Configure training: optimizer, loss(es), metrics, LR scheduler, device and precision.

        Every argument is checked before the model changes: a bad call raises and leaves the model
        as it was. Once all are valid the model moves to ``device`` and, unless lazy layers still
        lack their weights (then at the first batch), the optimizer is built over its trainable
        parameters.

        Args:
            optimizer: a Keras name (``"adam"``, ``"sgd"``, ``"rmsprop"``...), an
                ``ft.optimizers`` or torch optimizer object (built over this model's
                parameters), an optimizer class (built with its defaults), or a callable
                ``params -> optimizer``.
            loss: a Keras name (``"mse"``, ``"sparse_categorical_crossentropy"``...), a loss object
                or class, a callable ``(y_true, y_pred) -> loss``, or a list / dict of them, one per
                output. ``None`` is allowed for models that add their own losses (``add_loss``).
            metrics: metric names (``"accuracy"``, ``"mae"``...), objects, classes or callables; a
                list, or a list / dict per output.
            loss_weights: a list or dict weighting the losses of several outputs.
            lr_scheduler: a torch LR scheduler built on this model's optimizer, or a callable
                ``optimizer -> scheduler`` (stepped each epoch; ``OneCycleLR`` / ``CyclicLR`` each
                batch). Not Keras: Keras puts schedules in the optimizer.
            weighted_metrics: metrics weighted by ``sample_weight`` (and by ``class_weight``,
                which becomes per-sample weights), as in Keras.
            run_eagerly: accepted for Keras compatibility and ignored: fitorch always runs eagerly.
            steps_per_execution: accepted for Keras compatibility and ignored (one batch per step).
            jit_compile: ``True`` (``torch.compile`` with inductor), a ``torch.compile`` backend
                name or callable, or ``False``; on a compile failure training continues eagerly with
                a warning.
            device: ``"cpu"``, ``"cuda:0"``, a ``torch.device``...; ``None`` picks CUDA, then MPS,
                then the CPU (under ``torchrun``, this process's GPU).
            precision: ``None`` / ``"32"`` / ``"32-true"`` (float32), ``"bf16-mixed"`` or
                ``"16-mixed"`` (GPU only, with loss scaling).
            gradient_accumulation_steps: sum the gradients of this many batches before each
                optimizer step.
            strategy: under several processes, ``"auto"`` / ``"ddp"`` (data parallel),
                ``"fsdp"`` (the model sharded across processes) or an accelerate
                ``FullyShardedDataParallelPlugin``; checked, but without effect, in a single
                process.

        Example:

        >>> model = ft.Sequential([ft.Input((4,)), ft.layers.Dense(1)])
        >>> model.compile(optimizer="adam", loss="mse", metrics=["mae"], device="cpu")
        >>> type(model.optimizer).__name__, model.device.type
        ('Adam', 'cpu')
        >>> model.compile(optimizer="adam", loss="msee")
        Traceback (most recent call last):
        ...
        ValueError: Unknown loss 'msee'. Did you mean 'mse', ...? Valid names: ...
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
        """Train the model for ``epochs`` epochs.

        In-memory data is checked before anything changes (see docs/training.md), and every
        argument is checked before training starts.

        Args:
            x: the inputs: a tensor, NumPy array, list / tuple / dict of them (several inputs), a
                pandas DataFrame, a ``Dataset``, a ``DataLoader`` (used as given: its batch size and
                order), or a generator yielding ``(x, y[, sample_weight])``.
            y: the targets, like ``x``; ``None`` when ``x`` yields them (or for models trained by
                their added losses alone).
            batch_size: samples per batch for in-memory data and datasets (default 32).
            epochs: the epoch to stop at (counted with ``initial_epoch``); with 0, or
                ``initial_epoch >= epochs``, no epoch runs and the ``History`` is empty.
            verbose: ``"auto"`` (a live bar in a terminal or notebook, else one line per epoch),
                0 (silent), 1 (live bar) or 2 (one line per epoch).
            callbacks: a list of ``ft.callbacks.Callback`` objects.
            validation_split: the fraction (in [0, 1)) of the samples, taken from the end before
                shuffling, held out for validation (indexable data only).
            validation_data: ``(x_val, y_val[, sample_weight_val])``, or a ``DataLoader``,
                ``Dataset`` or generator, to evaluate on after each epoch; overrides
                ``validation_split`` (with a warning).
            shuffle: reshuffle in-memory data every epoch.
            class_weight: ``{class index: weight}`` scaling each sample's loss by its class.
            sample_weight: one weight per sample (same length as ``x``).
            initial_epoch: the epoch to start from (to resume a run).
            steps_per_epoch: batches per epoch (default: one pass over the data).
            validation_steps: batches per validation (default: the whole validation data).
            validation_batch_size: batch size of the validation data (default ``batch_size``).
            validation_freq: validate every that many epochs.
            on_nan: what a NaN or infinite training loss does: ``"raise"`` (an error naming the
                epoch and step), ``"stop"`` (stop with a warning), ``"restore"`` (stop with a
                warning after putting back the weights and optimizer state from the start of that
                epoch) or ``"ignore"`` (train on). Not Keras.
            check_finite: ``False`` skips the NaN/inf scan of in-memory data. Not Keras.

        Returns:
            A ``History`` (``ft.callbacks.History``): ``history.history`` maps each logged name
            (``loss``, the metrics, ``val_*``) to its per-epoch values; also ``model.history``.

        Example:

        >>> model = ft.Sequential([ft.Input((4,)), ft.layers.Dense(2)])
        >>> model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
        >>> x, y = torch.randn(8, 4), torch.randn(8, 2)
        >>> history = model.fit(x, y, batch_size=4, epochs=2, validation_split=0.25, verbose=0)
        >>> history.epoch, sorted(history.history)
        ([0, 1], ['loss', 'mae', 'val_loss', 'val_mae'])
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
        """Compute the loss and metrics over a dataset, without training.

        Args:
            x: the inputs, in any form ``fit`` accepts.
            y: the targets (``None`` when ``x`` yields them).
            batch_size: samples per batch for in-memory data (default 32).
            verbose: ``"auto"``, 0 (silent), 1 (live bar) or 2 (one line).
            sample_weight: one weight per sample.
            steps: batches to evaluate (default: all of them).
            callbacks: callbacks whose ``on_test_*`` hooks run.
            return_dict: return ``{name: value}`` instead of a list.

        Returns:
            The loss as a float when nothing else is logged; else a list of floats in the order of
            ``metrics_names`` (the loss first), or a dict with ``return_dict=True``.

        Example:

        >>> model = ft.Sequential([ft.Input((4,)), ft.layers.Dense(2)])
        >>> model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
        >>> x, y = torch.randn(8, 4), torch.randn(8, 2)
        >>> results = model.evaluate(x, y, verbose=0, return_dict=True)
        >>> sorted(results), type(results["loss"]).__name__
        (['loss', 'mae'], 'float')
        >>> len(model.evaluate(x, y, verbose=0))
        2
        """
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
        """Compute the outputs for ``x``, batch by batch, in inference mode and without gradients.

        Args:
            x: the inputs, in any form ``fit`` accepts (targets in it are ignored).
            batch_size: samples per batch for in-memory data (default 32).
            verbose: ``"auto"``, 0 (silent), 1 (live bar) or 2 (one line).
            steps: batches to predict (default: all of them).
            callbacks: callbacks whose ``on_predict_*`` hooks run.

        Returns:
            The outputs concatenated over the batches, on the CPU: a tensor, or a tuple / dict of
            them for a model with several outputs. (Keras returns NumPy arrays; ``.numpy()`` gives
            one.)

        Example:

        >>> model = ft.Sequential([ft.Input((4,)), ft.layers.Dense(2)])
        >>> y = model.predict(np.ones((10, 4), "float32"), batch_size=4, verbose=0)
        >>> tuple(y.shape), y.device.type, y.requires_grad
        ((10, 2), 'cpu', False)
        """
        return _trainer(self).predict(x, batch_size=batch_size, verbose=verbose, steps=steps,
                                      callbacks=callbacks)

    def train_on_batch(self, x: Any, y: Any = None, sample_weight: Any = None,
                       class_weight: dict | None = None, reset_metrics: bool = True,
                       return_dict: bool = False) -> Any:
        """Run one gradient step on one batch.

        Args:
            x: the batch's inputs.
            y: its targets.
            sample_weight: one weight per sample of the batch.
            class_weight: ``{class index: weight}``, as in ``fit``.
            reset_metrics: start the metrics afresh (``False`` accumulates them over calls).
            return_dict: return ``{name: value}`` instead of a list.

        Returns:
            The loss and metrics of that batch, as ``evaluate`` returns them.

        Example:

        >>> model = ft.Sequential([ft.Input((4,)), ft.layers.Dense(2)])
        >>> model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
        >>> logs = model.train_on_batch(torch.randn(8, 4), torch.randn(8, 2), return_dict=True)
        >>> sorted(logs)
        ['loss', 'mae']
        """
        return _trainer(self).train_on_batch(x, y, sample_weight=sample_weight,
                                             class_weight=class_weight,
                                             reset_metrics=reset_metrics, return_dict=return_dict)

    def test_on_batch(self, x: Any, y: Any = None, sample_weight: Any = None,
                      reset_metrics: bool = True, return_dict: bool = False) -> Any:
        """Compute the loss and metrics on one batch, without training.

        Args:
            x: the batch's inputs.
            y: its targets.
            sample_weight: one weight per sample of the batch.
            reset_metrics: start the metrics afresh (``False`` accumulates them over calls).
            return_dict: return ``{name: value}`` instead of a list.

        Returns:
            The loss and metrics of that batch, as ``evaluate`` returns them.

        Example:

        >>> model = ft.Sequential([ft.Input((4,)), ft.layers.Dense(2)])
        >>> model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
        >>> x, y = torch.randn(8, 4), torch.randn(8, 2)
        >>> model.test_on_batch(x, y) == model.evaluate(x, y, verbose=0)
        True
        """
        return _trainer(self).test_on_batch(x, y, sample_weight=sample_weight,
                                            reset_metrics=reset_metrics, return_dict=return_dict)

    def predict_on_batch(self, x: Any) -> Any:
        """Compute the outputs for one batch, in inference mode.

        Args:
            x: the batch's inputs.

        Returns:
            The outputs on the CPU (a tensor, or a tuple / dict of them).

        Example:

        >>> model = ft.Sequential([ft.Input((4,)), ft.layers.Dense(2)])
        >>> tuple(model.predict_on_batch(torch.ones(3, 4)).shape)
        (3, 2)
        """
        return _trainer(self).predict_on_batch(x)

    def reset_metrics(self) -> None:
        """Reset the loss and metric accumulators of training and evaluation, and of ``metrics``.

        ``fit`` and ``evaluate`` do this themselves at the start of each epoch or run.

        Example:

        >>> model = ft.Sequential([ft.Input((4,)), ft.layers.Dense(1)])
        >>> model.compile(optimizer="sgd", loss="mse", device="cpu")
        >>> x = torch.ones(2, 4)
        >>> logs = model.test_step((x, torch.zeros(2, 1)))
        >>> model.reset_metrics()
        >>> float(model.get_metrics_result()["loss"])
        0.0
        """
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
        """Run one training step on ``data`` and return the logs (Keras's ``train_step``).

        The default does what Keras 3's torch backend does: forward, ``compute_loss`` (recorded
        by the ``"loss"`` tracker), backward, ``optimizer.apply``, ``compute_metrics``. Override it
        (or ``compute_loss`` / ``compute_metrics``) to customize what ``fit`` does: ``fit`` then
        calls the model's own step for every batch. Without an override ``fit`` runs its built-in
        step, which does the same work faster.

        Args:
            data: the batch as ``fit`` yields it: ``x``, ``(x, y)`` or ``(x, y, sample_weight)``.

        Returns:
            A dict of the logs (``"loss"`` and the metrics' results) for the progress bar and the
            callbacks.

        Example:

        >>> model = ft.Sequential([ft.Input((4,)), ft.layers.Dense(1)])
        >>> model.compile(optimizer="sgd", loss="mse", device="cpu")
        >>> logs = model.train_step((torch.ones(2, 4), torch.zeros(2, 1)))
        >>> sorted(logs)
        ['loss']
        """
        return self._config.keras.train_step(self, data)

    def test_step(self, data: Any) -> dict[str, Any]:
        """Run one evaluation step on ``data``, without gradients (Keras's ``test_step``).

        The default runs the forward pass, ``compute_loss`` and ``compute_metrics``; override it to
        customize ``evaluate`` and validation.

        Args:
            data: the batch: ``x``, ``(x, y)`` or ``(x, y, sample_weight)``.

        Returns:
            A dict of the logs (``"loss"`` and the metrics' results).

        Example:

        >>> model = ft.Sequential([ft.Input((4,)), ft.layers.Dense(1)])
        >>> model.compile(optimizer="sgd", loss="mse", metrics=["mae"], device="cpu")
        >>> sorted(model.test_step((torch.ones(2, 4), torch.zeros(2, 1))))
        ['loss', 'mae']
        """
        return self._config.keras.test_step(self, data)

    def predict_step(self, data: Any) -> Any:
        """Compute the outputs for one batch of ``predict`` (Keras's ``predict_step``).

        Several inputs (a tuple or list) are passed as positional arguments, a dict by name.
        Override it to customize ``predict``.

        Args:
            data: the batch: ``x``, ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)`` (only ``x``
                is used).

        Returns:
            The model's outputs for ``x``.

        Example:

        >>> model = ft.Sequential([ft.Input((4,)), ft.layers.Dense(2)])
        >>> tuple(model.predict_step((torch.ones(3, 4), None)).shape)
        (3, 2)
        """
        x = data[0] if isinstance(data, (tuple, list)) else data
        if isinstance(x, dict):
            return self(**x)
        return self(*x) if isinstance(x, (tuple, list)) else self(x)

    def compute_loss(self, x: Any = None, y: Any = None, y_pred: Any = None,
                     sample_weight: Any = None, training: bool = True) -> torch.Tensor:
        """Compute the compiled loss of ``y_pred`` against ``y`` plus the model's added losses.

        The added losses are ``model.losses``: ``add_loss`` terms of the latest call and weight /
        activity regularization penalties. Custom ``train_step`` / ``test_step`` call it; override
        it to change the loss that the default steps and ``fit`` minimize.

        Args:
            x: the inputs (unused by the default, as in Keras).
            y: the targets.
            y_pred: the model's outputs.
            sample_weight: one weight per sample.
            training: whether this is a training step (unused by the default, as in Keras).

        Returns:
            The loss, a scalar tensor (with a gradient).

        Example:

        >>> model = ft.Sequential([ft.Input((4,)), ft.layers.Dense(1)])
        >>> model.compile(optimizer="sgd", loss="mse", device="cpu")
        >>> x, y = torch.ones(2, 4), torch.zeros(2, 1)
        >>> loss = model.compute_loss(x, y, model(x))
        >>> bool(torch.isclose(loss, ((model(x) - y) ** 2).mean())), loss.requires_grad
        (True, True)
        """
        del x, training  # as in Keras, the default uses neither
        return self._config.keras.compute_loss(self, y, y_pred, sample_weight)

    def compute_metrics(self, x: Any, y: Any, y_pred: Any, sample_weight: Any = None
                        ) -> dict[str, Any]:
        """Update the compiled metrics with one batch and return every metric's result.

        Args:
            x: the inputs (unused by the default, as in Keras).
            y: the targets.
            y_pred: the model's outputs.
            sample_weight: one weight per sample.

        Returns:
            ``get_metrics_result()``: each metric's result so far by name (the ``"loss"``
            tracker's too, which ``train_step`` / ``test_step`` update).

        Example:

        >>> model = ft.Sequential([ft.Input((4,)), ft.layers.Dense(1)])
        >>> model.compile(optimizer="sgd", loss="mse", metrics=["mae"], device="cpu")
        >>> x, y = torch.ones(2, 4), torch.zeros(2, 1)
        >>> results = model.compute_metrics(x, y, model(x))
        >>> bool(torch.isclose(results["mae"], model(x).abs().mean()))
        True
        """
        del x
        return self._config.keras.compute_metrics(self, y, y_pred, sample_weight)

    def get_metrics_result(self) -> dict[str, Any]:
        """Return the current result of each of ``metrics``, by name.

        A metric whose result is a dict (the compiled metrics) contributes each of its entries.

        Returns:
            A dict ``{name: result}`` (tensors, as the metrics return them).

        Example:

        >>> model = ft.Sequential([ft.Input((4,)), ft.layers.Dense(1)])
        >>> model.compile(optimizer="sgd", loss="mse", metrics=["mae"], device="cpu")
        >>> _ = model.test_step((torch.ones(2, 4), torch.ones(2, 1)))
        >>> sorted(model.get_metrics_result())
        ['loss', 'mae']
        """
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
        """Return a layer of ``layers`` by name or by position.

        Give exactly one of ``name`` and ``index``; an unknown name or an index out of range raises
        a ``ValueError`` saying what there is.

        Args:
            name: the layer's Keras name (``layer.name``; for a torch module, its attribute name).
            index: its position in ``layers`` (negative counts from the end).

        Returns:
            The layer (an ``nn.Module``).

        Example:

        >>> model = ft.Sequential([ft.Input((4,)), ft.layers.Dense(3, name="hidden"),
        ...                        ft.layers.Dense(1, name="out")])
        >>> model.get_layer("out") is model.get_layer(index=-1)
        True
        >>> model.get_layer("missing")
        Traceback (most recent call last):
        ...
        ValueError: get_layer: no layer named 'missing'; layers are ['hidden', 'out']
        """
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
        """Add a loss term from inside ``forward`` / ``call``, as in Keras.

        ``fit`` minimizes the compiled loss plus every term (summed), and ``evaluate`` reports that
        total. A model that adds its own losses may be compiled without a loss (the Keras VAE
        pattern: ``compile(optimizer="adam")`` then ``fit(x)``). The terms of the latest call are in
        ``model.losses``.

        Args:
            loss: a scalar tensor, or a list of them.

        Example:

        >>> class Net(ft.Model):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.dense = ft.layers.Dense(1)
        ...     def call(self, x):
        ...         self.add_loss(0.01 * x.abs().mean())
        ...         return self.dense(x)
        >>> net = Net()
        >>> _ = net(torch.ones(2, 3))
        >>> [round(float(t), 4) for t in net.losses]
        [0.01]
        """
        add_loss(self, loss)

    @yields_to_attribute
    def losses(self) -> list[torch.Tensor]:
        """The loss terms of the latest call (``add_loss`` of the model and its layers) and the
        regularization penalties (weight and activity), as Keras's ``model.losses``."""
        return module_losses(self)

    # ------------------------------------------------------------------ inspection and files
    def summary(self, *args: Any, **kwargs: Any) -> Any:
        """Print Keras's summary table: the layers, their output shapes and parameter counts.

        Then the total, trainable and non-trainable parameter counts with their size. Graph models
        that are not a simple chain get a ``Connected to`` column. The work is done by
        ``fitorch.summaries.model_summary``, which takes the arguments below.

        Args:
            *args: passed on, in this order: ``line_length``, ``positions``, ``print_fn``,
                ``expand_nested``, ``show_trainable``, ``layer_range``.
            **kwargs: ``line_length`` (the width; default Keras's, narrowed to the terminal),
                ``print_fn`` (called with the text instead of printing it), ``show_trainable``
                (a ``Trainable`` column), ``layer_range`` (first and last layer names to show),
                ``ascii`` (``True``: ASCII borders only; the default when the output is not UTF-8),
                ``input_shape`` / ``input_data`` (print the torchsummary table of ``ft.summary``
                instead, and return its data). ``positions`` and ``expand_nested`` are accepted for
                Keras compatibility and ignored.

        Returns:
            ``None``; with ``input_shape`` / ``input_data``, what ``ft.summary`` returns.

        Example:

        >>> model = ft.Sequential([ft.Input((4,)), ft.layers.Dense(2, name="out")])
        >>> model.summary(line_length=50, ascii=True)
        Model: "sequential..."
        +--------------+--------------+---------+
        | Layer (type) | Output Shape | Param # |
        +--------------+--------------+---------+
        | out (Dense)  | (None, 2)    |      10 |
        +--------------+--------------+---------+
         Total params: 10 (40.00 B)
         Trainable params: 10 (40.00 B)
         Non-trainable params: 0 (0.00 B)
        """
        return providers.provided("model_summary")(self, *args, **kwargs)

    def count_params(self) -> int:
        """Count the model's parameters, shared ones once.

        Returns:
            The number of scalar weights, trainable or not (buffers are not counted).

        Example:

        >>> model = ft.Sequential([ft.Input((4,)), ft.layers.Dense(3), ft.layers.Dense(1)])
        >>> model.count_params()  # (4 * 3 + 3) + (3 * 1 + 1)
        19
        """
        return sum(p.numel() for p in {id(p): p for p in self.parameters()}.values())

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> Model:
        """Rebuild a model from the output of ``get_config()``, with fresh weights.

        ``Model.from_config`` builds a functional graph model; a subclass is constructed as
        ``cls(**config)`` (``Sequential`` has its own).

        Args:
            config: the dict ``get_config()`` returned.
            custom_objects: ``{name: class}`` for layer classes that are not registered.

        Returns:
            The new model.

        Example:

        >>> inputs = ft.Input((4,))
        >>> model = ft.Model(inputs, ft.layers.Dense(2)(inputs))
        >>> copy = ft.Model.from_config(model.get_config())
        >>> tuple(copy(torch.ones(3, 4)).shape), copy.count_params()
        ((3, 2), 10)
        """
        if cls is Model:
            return model_class("Functional").from_config(config, custom_objects=custom_objects)
        return cls(**config)

    def save(self, filepath: str, overwrite: bool = False, **kwargs: Any) -> None:
        """Write the whole model to one ``.fitorch`` file, atomically.

        The file holds the architecture (Sequential and functional models, models of standard
        ``torch.nn`` modules, registered classes), the weights and buffers, and, once compiled, the
        compile arguments with the optimizer and LR-scheduler state, so ``ft.models.load_model``
        returns a model that continues ``fit`` where it stopped. A path ending in ``.keras`` writes
        Keras 3's format instead (models of Keras layers). Under several processes only rank 0
        writes.

        Args:
            filepath: where to write (``.fitorch``).
            overwrite: replace an existing file (without it, an existing file raises
                ``FileExistsError``).
            **kwargs: ``include_optimizer`` (default ``True``) and ``include_architecture``
                (default ``True``).

        Example:

        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "model.fitorch")
        >>> model = ft.Sequential([ft.Input((4,)), ft.layers.Dense(2)])
        >>> model.save(path)
        >>> restored = ft.models.load_model(path)
        >>> bool(torch.equal(restored(torch.ones(1, 4)), model(torch.ones(1, 4))))
        True
        """
        save_model = providers.provided("save_model")
        save_model(self, filepath, overwrite=overwrite, **kwargs)

    def save_weights(self, filepath: str, overwrite: bool = True) -> None:
        """Write the weights and buffers to a ``.safetensors`` file, atomically.

        Tied weights are stored once and the keys are the ``state_dict`` keys. A path ending in
        ``.weights.h5`` writes Keras 3's weights format instead. The folder must exist. Under
        several processes only rank 0 writes (an FSDP-sharded model is gathered, so every process
        must call).

        Args:
            filepath: where to write (``.safetensors`` or ``.weights.h5``).
            overwrite: replace an existing file (``False``: an existing file raises).

        Example:

        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "model.safetensors")
        >>> model = ft.Sequential([ft.Input((4,)), ft.layers.Dense(2)])
        >>> model.save_weights(path)
        >>> os.path.exists(path)
        True
        """
        save_weights = providers.provided("save_weights")
        save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath: str, strict: bool = True) -> Any:
        """Load weights from a ``.safetensors``, ``.fitorch`` or plain ``state_dict`` file.

        Everything is checked before anything is copied: on a mismatch the error lists every
        missing, unexpected and shape-mismatched key (with both shapes), and the model is unchanged.
        Plain torch files are read with ``torch.load(weights_only=True)`` only; ``.weights.h5``
        files are read in Keras 3's layout.

        Args:
            filepath: the file to read.
            strict: ``False`` tolerates missing and unexpected keys (never a shape mismatch).

        Returns:
            torch's ``(missing_keys, unexpected_keys)`` result of ``load_state_dict``.

        Example:

        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "model.safetensors")
        >>> model = ft.Sequential([ft.Input((4,)), ft.layers.Dense(2)])
        >>> model.save_weights(path)
        >>> other = ft.Sequential([ft.Input((4,)), ft.layers.Dense(2)])
        >>> other.load_weights(path)
        <All keys matched successfully>
        >>> bool(torch.equal(other(torch.ones(1, 4)), model(torch.ones(1, 4))))
        True
        """
        load_weights = providers.provided("load_weights")
        return load_weights(self, filepath, strict=strict)

    def get_weights(self) -> list:
        """Return every weight as a NumPy array, in the order of ``weights``.

        Fitorch layers give theirs in Keras's layout (a ``Dense`` kernel is ``(in, out)``), so
        ``model.get_weights()`` is the concatenation of its layers' ``get_weights()`` and Keras's
        arrays load as they are; plain torch modules give theirs as torch stores them. The arrays
        are whole tensors, also under FSDP (every process must call it then).

        Returns:
            A list of NumPy arrays, copies (writing into one leaves the model unchanged).

        Example:

        >>> model = ft.Sequential([ft.Input((4,)), ft.layers.Dense(2)])
        >>> [w.shape for w in model.get_weights()]
        [(4, 2), (2,)]
        """
        state = full_state_dict(self, rank0_only=False)
        # copied: on the CPU .numpy() would share memory with the parameter, and Keras's arrays
        # are copies (writing into one must not change the model)
        return [to_keras(state[name].detach()).to("cpu", copy=True).numpy()
                for name, _, to_keras in keras_weight_entries(self)]

    def set_weights(self, weights: list) -> None:
        """Set every weight from a list in the order and layout of ``get_weights``.

        The shapes of all of them are checked before anything is written.

        Args:
            weights: a list of arrays (NumPy or tensors), one per weight.

        Example:

        >>> model = ft.Sequential([ft.Input((4,)), ft.layers.Dense(2)])
        >>> model.set_weights([np.ones((4, 2), "float32"), np.zeros(2, "float32")])
        >>> model(torch.ones(1, 4)).tolist()
        [[4.0, 4.0]]
        >>> model.set_weights([np.ones((2, 4), "float32"), np.zeros(2, "float32")])
        Traceback (most recent call last):
        ...
        ValueError: Sequential '...': weight '0.kernel' expects Keras shape (4, 2), got (2, 4)
        """
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
