"""Keras's "timeseries classification from scratch" example on synthetic series (noisy sines
against noisy square waves): three Conv1D + BatchNormalization + ReLU blocks,
GlobalAveragePooling1D, softmax, with ModelCheckpoint, ReduceLROnPlateau and EarlyStopping."""

import os
import tempfile

import numpy as np


def make_series(n, length, seed):
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 4 * np.pi, length)
    labels = rng.integers(0, 2, size=n)
    phase = rng.uniform(0, 2 * np.pi, size=(n, 1))
    waves = np.sin(t + phase)
    waves[labels == 1] = np.sign(waves[labels == 1])
    x = waves + rng.normal(scale=0.3, size=waves.shape)
    return x.reshape(n, length, 1).astype("float32"), labels.astype("int64")


def run(keras, sync):
    layers = keras.layers
    keras.backend.clear_session()
    x_train, y_train = make_series(160, 64, seed=0)
    x_test, y_test = make_series(80, 64, seed=1)
    num_classes = len(np.unique(y_train))

    def make_model(input_shape):
        input_layer = keras.layers.Input(input_shape)
        x = input_layer
        for _ in range(3):
            x = layers.Conv1D(filters=16, kernel_size=3, padding="same")(x)
            x = layers.BatchNormalization()(x)
            x = layers.ReLU()(x)
        gap = layers.GlobalAveragePooling1D()(x)
        output_layer = layers.Dense(num_classes, activation="softmax")(gap)
        return keras.Model(inputs=input_layer, outputs=output_layer)

    model = make_model(input_shape=x_train.shape[1:])
    sync(model)
    with tempfile.TemporaryDirectory() as workdir:
        callbacks = [
            keras.callbacks.ModelCheckpoint(os.path.join(workdir, "best_model.keras"),
                                            save_best_only=True, monitor="val_loss"),
            keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=1,
                                              min_lr=1e-4),
            keras.callbacks.EarlyStopping(monitor="val_loss", patience=3, verbose=0),
        ]
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                      metrics=["sparse_categorical_accuracy"])
        history = model.fit(x_train, y_train, batch_size=32, epochs=4, callbacks=callbacks,
                            validation_split=0.2, shuffle=False, verbose=0)
        saved = sorted(os.listdir(workdir))
    test_loss, test_acc = model.evaluate(x_test, y_test, verbose=0)
    return {"history": history.history, "test": [test_loss, test_acc], "saved": saved,
            "predictions": model.predict(x_test[:8], verbose=0)}
