"""LambdaCallback: a callback made of plain functions."""

from __future__ import annotations

from collections.abc import Callable

from fitorch.callbacks.callback import Callback

HOOKS = tuple(name for name in vars(Callback) if name.startswith("on_"))


def _with_logs(hook: str, fn: Callable) -> Callable:
    """``fn`` called with the hook's full Keras signature, ``logs`` included even when the
    caller left it out."""
    if hook.endswith(("_train_begin", "_train_end", "_test_begin", "_test_end",
                      "_predict_begin", "_predict_end")):
        def call(logs: dict | None = None) -> None:
            fn(logs)
    else:
        def call(index: int, logs: dict | None = None) -> None:  # type: ignore[misc]
            fn(index, logs)
    call.__name__ = hook
    return call


class LambdaCallback(Callback):
    """Build a callback from plain functions, one per hook: ``LambdaCallback(on_epoch_end=f)``.

    Each function takes the hook's arguments: ``on_epoch_begin/end(epoch, logs)``,
    ``on_*_batch_begin/end(batch, logs)``, ``on_train/test/predict_begin/end(logs)``. Only the
    hooks given are called, so a LambdaCallback without batch functions costs nothing per step.
    An unknown ``on_*`` name raises a ``TypeError``; other keyword arguments become attributes,
    as in Keras.

    Args:
        **kwargs: the hook functions by hook name (``None`` is skipped), and any attributes.

    Example:

    >>> model = ft.Sequential([ft.Input((4,)), ft.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> x, y = torch.randn(8, 4), torch.randn(8, 1)
    >>> seen = []
    >>> record = ft.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(epoch))
    >>> _ = model.fit(x, y, epochs=3, verbose=0, callbacks=[record])
    >>> seen
    [0, 1, 2]
    """

    def __init__(self, **kwargs: Callable | object) -> None:
        super().__init__()
        hooks: dict[str, Callable] = {}
        for name, fn in kwargs.items():
            if name not in HOOKS or fn is None:
                continue
            if not callable(fn):
                raise TypeError(f"LambdaCallback: {name} must be a function, got {fn!r}")
            hooks[name] = fn
        unknown = [k for k in kwargs if k.startswith("on_") and k not in HOOKS]
        if unknown:
            raise TypeError(f"LambdaCallback: unknown hooks {unknown}; expected some of {HOOKS}")
        self.__dict__.update({k: v for k, v in kwargs.items() if k not in HOOKS})
        # Instance attributes shadow the no-op methods: the dispatcher calls them directly.
        self.__dict__.update({name: _with_logs(name, fn) for name, fn in hooks.items()})

    def _overrides(self, hook: str) -> bool:
        return hook in self.__dict__
