"""The tutorial's subclassed Keras model: a custom ``ResBlock`` layer (three Conv1D, a residual
``Add``, MaxPool1D; layers created in ``build``) used twice inside ``ImdbModel``, a subclassed
``Model`` (103,197 parameters), trained on a SYNTHETIC IMDB-shaped token corpus (not real
reviews)."""

from __future__ import annotations

from typing import Any

import torch

import fitorch as ft
from fitorch import layers, models
from fitorch.demos.common import (IMDB_MAX_LEN, IMDB_MAX_WORDS, fit_and_report, heading,
                                  imdb_tokens)

EPOCHS = 4


class ResBlock(layers.Layer):
    """The tutorial's residual block, with only the imports changed to fitorch."""

    def __init__(self, kernel_size: int, **kwargs: Any) -> None:
        super(ResBlock, self).__init__(**kwargs)
        self.kernel_size = kernel_size

    def build(self, input_shape: Any) -> None:
        self.conv1 = layers.Conv1D(filters=64, kernel_size=self.kernel_size,
                                   activation="relu", padding="same")
        self.conv2 = layers.Conv1D(filters=32, kernel_size=self.kernel_size,
                                   activation="relu", padding="same")
        self.conv3 = layers.Conv1D(filters=input_shape[-1],
                                   kernel_size=self.kernel_size, activation="relu", padding="same")
        self.maxpool = layers.MaxPool1D(2)
        super(ResBlock, self).build(input_shape)

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        x = self.conv1(inputs)
        x = self.conv2(x)
        x = self.conv3(x)
        x = layers.Add()([inputs, x])
        x = self.maxpool(x)
        return x

    def get_config(self) -> dict[str, Any]:
        config = super(ResBlock, self).get_config()
        config.update({"kernel_size": self.kernel_size})
        return config


class ImdbModel(models.Model):
    """The tutorial's subclassed model (its ``ayers.Dense`` typo fixed)."""

    def __init__(self) -> None:
        super(ImdbModel, self).__init__()

    def build(self, input_shape: Any = None) -> None:
        self.embedding = layers.Embedding(IMDB_MAX_WORDS, 7)
        self.block1 = ResBlock(7)
        self.block2 = ResBlock(5)
        self.dense = models.Sequential([layers.Dense(1, activation="sigmoid")])
        super(ImdbModel, self).build(input_shape)

    def call(self, x: torch.Tensor) -> torch.Tensor:
        x = self.embedding(x)
        x = self.block1(x)
        x = self.block2(x)
        x = layers.Flatten()(x)
        x = self.dense(x)
        return x


def run(epochs: int | None = None, out: str | None = None, verbose: Any = "auto"
        ) -> dict[str, Any]:
    """Train and report; returns the last epoch's logs and ``files``."""
    torch.manual_seed(0)
    ft.backend.clear_session()
    (x_train, y_train), (x_test, y_test) = imdb_tokens()
    heading("subclassed layers: ResBlock x2 in ImdbModel, SYNTHETIC IMDB-shaped tokens "
            "(not real reviews)")
    model = ImdbModel()
    model.build(input_shape=(None, IMDB_MAX_LEN))
    model.summary()
    model.compile(optimizer="Nadam", loss="binary_crossentropy", metrics=["accuracy", "AUC"])
    return fit_and_report(model, (x_train, y_train), (x_test, y_test),
                          epochs=epochs or EPOCHS, verbose=verbose, out=out,
                          figure="resblock_history.png", metrics=("loss", "accuracy", "AUC"))
