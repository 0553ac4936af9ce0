"""The masking and padding guide: variable-length integer sequences padded with
``pad_sequences``, ``Embedding(mask_zero=True)`` into an ``LSTM``, then ``Dense``. The padded
steps are skipped, so more padding does not change the predictions."""

import numpy as np


def run(keras, sync):
    layers = keras.layers
    keras.backend.clear_session()
    rng = np.random.default_rng(0)
    raw = [list(rng.integers(1, 40, size=n)) for n in rng.integers(2, 9, size=64)]
    padded = keras.utils.pad_sequences(raw, padding="post")
    longer = keras.utils.pad_sequences(raw, maxlen=12, padding="post")
    y = np.array([[float(sum(s) % 2)] for s in raw], dtype="float32")

    model = keras.Sequential([
        keras.Input(shape=(None,), dtype="int64"),
        layers.Embedding(input_dim=40, output_dim=8, mask_zero=True, name="embedding"),
        layers.LSTM(16, name="lstm"),
        layers.Dense(1, activation="sigmoid", name="head"),
    ])
    sync(model)
    initial = model.predict(padded, verbose=0)
    initial_longer = model.predict(longer, verbose=0)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="binary_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(padded, y, batch_size=16, epochs=3, shuffle=False, verbose=0)
    return {"padded_shape": tuple(padded.shape), "initial": initial,
            "initial_longer": initial_longer, "history": history.history,
            "predictions": model.predict(padded, verbose=0)}
