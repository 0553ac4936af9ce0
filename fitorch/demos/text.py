"""The tutorial's Keras text classifier (``Sequential``: Embedding -> Conv1D -> MaxPool1D -> Conv1D
-> MaxPool1D -> Flatten -> Dense softmax) on a SYNTHETIC token corpus shaped like the tutorial's
Reuters newswires (300 tokens, a 30,982-word vocabulary, 46 topics).

The tutorial downloads Reuters through Keras; fitorch downloads nothing, so the words here come from
:func:`fitorch.datasets.token_data`: random Zipf-distributed ids in which each topic's own words
appear a little more often. It is NOT real text; accuracies say nothing about Reuters.
"""

from __future__ import annotations

from typing import Any

import torch

import fitorch as ft
from fitorch import datasets, layers, losses, metrics, models, optimizers
from fitorch.demos.common import fit_and_report, heading

MAX_LEN = 300      # the tutorial's MAX_LEN
# x_train.max() + 1 for the tutorial's Reuters: its summary shows 216,874 = 30982*7
MAX_WORDS = 30982
CAT_NUM = 46       # Reuters topics
EPOCHS = 5
SAMPLES = 3000
# how often a topic's own words replace a background word: at 0.25 the tutorial's CNN reaches ~0.7
# validation accuracy in 5 epochs on 2,400 sequences (at 0.05 it only memorises them)
SIGNAL = 0.25


def create_model() -> models.Sequential:
    """The tutorial's ``create_model()``, with only the imports changed to fitorch."""
    model = models.Sequential()
    model.add(layers.Embedding(MAX_WORDS, 7, input_length=MAX_LEN))
    model.add(layers.Conv1D(filters=64, kernel_size=5, activation="relu"))
    model.add(layers.MaxPool1D(2))
    model.add(layers.Conv1D(filters=32, kernel_size=3, activation="relu"))
    model.add(layers.MaxPool1D(2))
    model.add(layers.Flatten())
    model.add(layers.Dense(CAT_NUM, activation="softmax"))
    return model


def compile_model(model: models.Sequential) -> models.Sequential:
    """The tutorial's ``compile_model()``: Nadam, sparse categorical crossentropy, accuracy and
    top-5 accuracy."""
    model.compile(optimizer=optimizers.Nadam(),
                  loss=losses.SparseCategoricalCrossentropy(),
                  metrics=[metrics.SparseCategoricalAccuracy(),
                           metrics.SparseTopKCategoricalAccuracy(5)])
    return model


def token_corpus(num_samples: int = SAMPLES, seed: int = 0
                 ) -> tuple[tuple[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]:
    """SYNTHETIC Reuters-shaped tokens, split 80 / 20: ``((x_train, y_train), (x_test, y_test))``."""
    x, y = datasets.token_data(num_samples=num_samples, max_len=MAX_LEN, num_words=MAX_WORDS,
                               num_classes=CAT_NUM, seed=seed, signal=SIGNAL)
    return datasets.train_valid_split(x, y, 0.2, seed=seed)


def run(epochs: int | None = None, out: str | None = None, verbose: Any = "auto"
        ) -> dict[str, Any]:
    """Train and report; returns the last epoch's logs and ``files``."""
    torch.manual_seed(0)
    ft.backend.clear_session()
    (x_train, y_train), (x_test, y_test) = token_corpus()
    heading("text CNN on a SYNTHETIC Reuters-shaped corpus (46 topics, 300 tokens; not real text)")
    model = compile_model(create_model())
    model.summary()
    return fit_and_report(model, (x_train, y_train), (x_test, y_test),
                          epochs=epochs or EPOCHS, verbose=verbose, out=out,
                          figure="text_history.png", metrics=("loss", "sparse_categorical_accuracy"))
