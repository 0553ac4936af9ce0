"""The tutorial's functional-API model: three SeparableConv1D branches (kernels 3, 5, 7) over one
embedding, concatenated into a sigmoid output (78,938 parameters), trained on a SYNTHETIC
IMDB-shaped token corpus (200 tokens, 10,000 words, 2 classes; not real reviews)."""

from __future__ import annotations

from typing import Any

import torch

import fitorch as ft
from fitorch import layers, models
from fitorch.demos.common import (IMDB_MAX_LEN, IMDB_MAX_WORDS, fit_and_report, heading,
                                  imdb_tokens)

EPOCHS = 5


def create_model() -> Any:
    """The tutorial's three-branch model, with only the imports changed to fitorch (and
    ``layers.Input`` spelled ``ft.Input``)."""
    inputs = ft.Input(shape=[IMDB_MAX_LEN])  # Keras: layers.Input
    x = layers.Embedding(IMDB_MAX_WORDS, 7)(inputs)

    branch1 = layers.SeparableConv1D(64, 3, activation="relu")(x)
    branch1 = layers.MaxPool1D(3)(branch1)
    branch1 = layers.SeparableConv1D(32, 3, activation="relu")(branch1)
    branch1 = layers.GlobalMaxPool1D()(branch1)

    branch2 = layers.SeparableConv1D(64, 5, activation="relu")(x)
    branch2 = layers.MaxPool1D(5)(branch2)
    branch2 = layers.SeparableConv1D(32, 5, activation="relu")(branch2)
    branch2 = layers.GlobalMaxPool1D()(branch2)

    branch3 = layers.SeparableConv1D(64, 7, activation="relu")(x)
    branch3 = layers.MaxPool1D(7)(branch3)
    branch3 = layers.SeparableConv1D(32, 7, activation="relu")(branch3)
    branch3 = layers.GlobalMaxPool1D()(branch3)

    concat = layers.Concatenate()([branch1, branch2, branch3])
    outputs = layers.Dense(1, activation="sigmoid")(concat)

    model = models.Model(inputs=inputs, outputs=outputs)
    model.compile(optimizer="Nadam", loss="binary_crossentropy", metrics=["accuracy", "AUC"])
    return model


def run(epochs: int | None = None, out: str | None = None, verbose: Any = "auto"
        ) -> dict[str, Any]:
    """Train and report; returns the last epoch's logs and ``files``."""
    torch.manual_seed(0)
    ft.backend.clear_session()
    (x_train, y_train), (x_test, y_test) = imdb_tokens()
    heading("functional API: three SeparableConv1D branches, SYNTHETIC IMDB-shaped tokens "
            "(not real reviews)")
    model = create_model()
    model.summary()
    return fit_and_report(model, (x_train, y_train), (x_test, y_test),
                          epochs=epochs or EPOCHS, verbose=verbose, out=out,
                          figure="functional_history.png", metrics=("loss", "accuracy", "AUC"))
