"""Training loops: ``Trainer`` behind ``Model.fit``, and the seed's function-style API."""

from fitorch.training.steps import StepLogger, train_model, train_step, valid_step

__all__ = ["train_step", "valid_step", "train_model", "StepLogger"]
