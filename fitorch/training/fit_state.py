"""``FitState``: where a running ``fit`` is, and where a resumed one must start."""

from __future__ import annotations

from typing import Any

import torch


class FitState:
    """The position of a running ``fit``, for callbacks (``model._fit_state``, kept in the
    model's ``CompileConfig``).

    ``epoch`` (0-based) and ``step`` (batches done in that epoch) say where training is;
    ``epoch_rng_state`` is torch's CPU RNG state when the epoch began, before its data order was
    drawn. A callback may call ``resume_from`` in ``on_train_begin`` (``BackupAndRestore`` does)
    to continue an interrupted run at exactly the same place.
    """

    def __init__(self) -> None:
        self.epoch = 0
        self.step = 0
        self.epoch_rng_state: torch.Tensor | None = None
        self.resume_point: dict[str, Any] | None = None
        self.train_phase: Any = None  # the epoch's loss and metric sums (``state()``)

    def resume_from(self, epoch: int, step: int, epoch_rng_state: torch.Tensor,
                    rng_states: dict[str, Any], phase_state: dict[str, Any] | None = None
                    ) -> None:
        """Start at ``epoch`` after its first ``step`` batches; ``rng_states`` (from
        ``capture_rng_states``) are restored once those batches are skipped, and
        ``phase_state`` (from ``train_phase.state()``) continues the epoch's loss and metrics."""
        self.resume_point = {"epoch": epoch, "step": step, "epoch_rng_state": epoch_rng_state,
                             "rng_states": rng_states, "phase_state": phase_state}
