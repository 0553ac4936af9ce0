"""The serialization guide's round trip: a trained functional model saved to a ``.keras`` file
and its weights to a ``.weights.h5`` file, loaded back with ``keras.models.load_model`` and
``load_weights``, giving the same predictions. The files are left in ``result["workdir"]`` so
the test can also read the file Keras wrote with fitorch (and remove the folder)."""

import os
import tempfile

import numpy as np


def run(keras, sync):
    layers = keras.layers
    keras.backend.clear_session()
    inputs = keras.Input(shape=(12,), dtype="int64", name="tokens")
    h = layers.Embedding(30, 8)(inputs)
    h = layers.Conv1D(8, 3, activation="relu")(h)
    h = layers.BatchNormalization()(h)
    h = layers.LSTM(8)(h)
    h = layers.Dropout(0.2)(h)
    outputs = layers.Dense(3, activation="softmax", name="probs")(h)
    model = keras.Model(inputs, outputs, name="tagger")
    sync(model)

    rng = np.random.default_rng(0)
    x = rng.integers(0, 30, size=(64, 12))
    y = rng.integers(0, 3, size=(64,))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    predictions = model.predict(x[:8], verbose=0)

    workdir = tempfile.mkdtemp()
    path = os.path.join(workdir, "tagger.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    model.save_weights(os.path.join(workdir, "tagger.weights.h5"))
    return {
        "workdir": workdir, "path": path, "x": x[:8], "predictions": predictions,
        "loaded_predictions": loaded.predict(x[:8], verbose=0),
        "loaded_name": loaded.name,
        "loaded_layers": [type(layer).__name__ for layer in loaded.layers
                          if type(layer).__name__ != "InputLayer"],
    }
