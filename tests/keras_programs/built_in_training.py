"""The "training & evaluation with the built-in methods" guide on scikit-learn's digits:
validation_split, a custom loss function, class_weight, sample_weight, a LearningRateSchedule,
and the ModelCheckpoint / EarlyStopping callbacks.

The guide's RMSprop is replaced by Adam and SGD: Keras's RMSprop adds epsilon inside the square
root, torch's (which fitorch uses) outside it, so the two runs would drift apart.
"""

import os
import tempfile

import numpy as np
from sklearn.datasets import load_digits


def run(keras, sync):
    layers, ops = keras.layers, keras.ops
    digits = load_digits()
    x = (digits.data[:600] / 16.0).astype("float32")
    y = digits.target[:600].astype("int64")

    def get_uncompiled_model():
        keras.backend.clear_session()
        inputs = keras.Input(shape=(64,), name="digits")
        h = layers.Dense(32, activation="relu", name="dense_1")(inputs)
        h = layers.Dense(32, activation="relu", name="dense_2")(h)
        outputs = layers.Dense(10, activation="softmax", name="predictions")(h)
        model = keras.Model(inputs=inputs, outputs=outputs)
        sync(model)
        return model

    def get_compiled_model(optimizer=None):
        model = get_uncompiled_model()
        model.compile(optimizer=optimizer or keras.optimizers.Adam(learning_rate=1e-3),
                      loss=keras.losses.SparseCategoricalCrossentropy(),
                      metrics=[keras.metrics.SparseCategoricalAccuracy()])
        return model

    results = {}
    model = get_compiled_model()
    history = model.fit(x, y, batch_size=64, epochs=2, validation_split=0.2, shuffle=False,
                        verbose=0)
    results["validation_split"] = history.history
    results["evaluate"] = model.evaluate(x, y, batch_size=128, verbose=0)
    results["predict"] = model.predict(x[:5], verbose=0)

    def custom_mean_squared_error(y_true, y_pred):
        return ops.mean(ops.square(y_true - y_pred), axis=-1)

    model = get_uncompiled_model()
    model.compile(optimizer=keras.optimizers.Adam(), loss=custom_mean_squared_error)
    y_one_hot = keras.utils.to_categorical(y, num_classes=10)
    results["custom_loss"] = model.fit(x, y_one_hot, batch_size=64, epochs=1, shuffle=False,
                                       verbose=0).history

    class_weight = {i: 1.0 for i in range(10)}
    class_weight[5] = 2.0
    model = get_compiled_model()
    results["class_weight"] = model.fit(x, y, class_weight=class_weight, batch_size=64,
                                        epochs=1, shuffle=False, verbose=0).history
    sample_weight = np.ones(shape=(len(y),), dtype="float32")
    sample_weight[y == 5] = 2.0
    model = get_compiled_model()
    results["sample_weight"] = model.fit(x, y, sample_weight=sample_weight, batch_size=64,
                                         epochs=1, shuffle=False, verbose=0).history

    lr_schedule = keras.optimizers.schedules.ExponentialDecay(
        initial_learning_rate=0.1, decay_steps=4, decay_rate=0.5, staircase=True)
    model = get_compiled_model(keras.optimizers.SGD(learning_rate=lr_schedule))
    results["schedule"] = model.fit(x, y, batch_size=64, epochs=3, shuffle=False,
                                    verbose=0).history

    with tempfile.TemporaryDirectory() as workdir:
        callbacks = [
            keras.callbacks.EarlyStopping(monitor="val_loss", min_delta=1e-2, patience=1,
                                          verbose=0),
            keras.callbacks.ModelCheckpoint(filepath=os.path.join(workdir, "model_{epoch}.keras"),
                                            save_best_only=True, monitor="val_loss", verbose=0),
        ]
        model = get_compiled_model(keras.optimizers.SGD(learning_rate=1e-3))
        history = model.fit(x, y, epochs=20, batch_size=64, callbacks=callbacks,
                            validation_split=0.2, shuffle=False, verbose=0)
        results["early_stopping"] = history.history
        results["checkpoints"] = sorted(os.listdir(workdir))
    return results
