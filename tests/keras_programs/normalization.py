"""Preprocessing inside a program: ``Normalization.adapt`` on the training data, then a small
Dense model that starts with the adapted layer (the preprocessing layers guide)."""

import numpy as np


def run(keras, sync):
    layers = keras.layers
    keras.backend.clear_session()
    rng = np.random.default_rng(0)
    x = (rng.normal(size=(128, 5)) * [1.0, 10.0, 0.1, 3.0, 50.0] + [0, 5, -1, 2, 100]).astype(
        "float32")
    y = (x[:, :1] + x[:, 1:2] / 10.0).astype("float32")

    normalizer = layers.Normalization(axis=-1)
    normalizer.adapt(x)
    normalized = keras.ops.convert_to_numpy(normalizer(keras.ops.convert_to_tensor(x)))
    hidden, head = layers.Dense(16, activation="relu", name="hidden"), layers.Dense(1, name="head")
    model = keras.Sequential([keras.Input(shape=(5,)), normalizer, hidden, head])
    sync(hidden), sync(head)  # the adapted statistics are each library's own
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    history = model.fit(x, y, batch_size=32, epochs=3, shuffle=False, verbose=0)
    return {"mean": np.asarray(normalizer.adapt_mean).ravel(),
            "variance": np.asarray(normalizer.adapt_variance).ravel(), "normalized": normalized,
            "history": history.history, "predictions": model.predict(x[:8], verbose=0)}
