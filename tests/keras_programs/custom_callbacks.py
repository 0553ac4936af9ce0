"""The "writing your own callbacks" guide: a callback that records, at every hook Keras calls,
the hook's name and the keys of its ``logs``, through fit (with validation), evaluate and
predict; and the guide's early-stopping-at-minimum-loss callback that sets ``stop_training``."""

import numpy as np


def run(keras, sync):
    layers = keras.layers
    keras.backend.clear_session()
    calls = []

    class CustomCallback(keras.callbacks.Callback):
        def _record(self, hook, logs):
            calls.append((hook, sorted((logs or {}).keys()), logs is None))

        def on_train_begin(self, logs=None):
            self._record("on_train_begin", logs)

        def on_train_end(self, logs=None):
            self._record("on_train_end", logs)

        def on_epoch_begin(self, epoch, logs=None):
            self._record(f"on_epoch_begin {epoch}", logs)

        def on_epoch_end(self, epoch, logs=None):
            self._record(f"on_epoch_end {epoch}", logs)

        def on_test_begin(self, logs=None):
            self._record("on_test_begin", logs)

        def on_test_end(self, logs=None):
            self._record("on_test_end", logs)

        def on_predict_begin(self, logs=None):
            self._record("on_predict_begin", logs)

        def on_predict_end(self, logs=None):
            self._record("on_predict_end", logs)

        def on_train_batch_begin(self, batch, logs=None):
            self._record(f"on_train_batch_begin {batch}", logs)

        def on_train_batch_end(self, batch, logs=None):
            self._record(f"on_train_batch_end {batch}", logs)

        def on_test_batch_begin(self, batch, logs=None):
            self._record(f"on_test_batch_begin {batch}", logs)

        def on_test_batch_end(self, batch, logs=None):
            self._record(f"on_test_batch_end {batch}", logs)

        def on_predict_batch_begin(self, batch, logs=None):
            self._record(f"on_predict_batch_begin {batch}", logs)

        def on_predict_batch_end(self, batch, logs=None):
            self._record(f"on_predict_batch_end {batch}", logs)

    class EarlyStoppingAtMinLoss(keras.callbacks.Callback):
        def __init__(self, patience=0):
            super().__init__()
            self.patience = patience
            self.best_weights = None

        def on_train_begin(self, logs=None):
            self.wait, self.stopped_epoch, self.best = 0, 0, np.inf

        def on_epoch_end(self, epoch, logs=None):
            current = logs.get("loss")
            if np.less(current, self.best):
                self.best, self.wait = current, 0
                self.best_weights = self.model.get_weights()
            else:
                self.wait += 1
                if self.wait >= self.patience:
                    self.stopped_epoch = epoch
                    self.model.stop_training = True
                    self.model.set_weights(self.best_weights)

    def get_model():
        model = keras.Sequential([keras.Input(shape=(4,)), layers.Dense(1)])
        sync(model)
        model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1),
                      loss="mean_squared_error", metrics=["mean_absolute_error"])
        return model

    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 4)).astype("float32")
    y = (x @ np.array([[1.0], [-2.0], [0.5], [0.0]], dtype="float32")).astype("float32")
    model = get_model()
    model.fit(x, y, batch_size=16, epochs=2, validation_data=(x[:20], y[:20]), shuffle=False,
              verbose=0, callbacks=[CustomCallback()])
    model.evaluate(x, y, batch_size=16, verbose=0, callbacks=[CustomCallback()])
    model.predict(x, batch_size=16, verbose=0, callbacks=[CustomCallback()])

    # noisy targets: the loss stops falling and the callback stops after `patience` epochs
    y = y + rng.normal(scale=0.5, size=y.shape).astype("float32")
    model = get_model()
    stopper = EarlyStoppingAtMinLoss(patience=2)
    history = model.fit(x, y, batch_size=8, epochs=30, shuffle=False, verbose=0,
                        callbacks=[stopper])
    return {"calls": calls, "epochs_run": len(history.history["loss"]),
            "stopped_epoch": stopper.stopped_epoch, "history": history.history,
            "best": stopper.best}
