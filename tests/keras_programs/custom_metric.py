"""The training guide's custom metric, ``CategoricalTruePositives``: a ``keras.metrics.Metric``
with ``add_variable``, ``update_state``, ``result`` and ``reset_state``, used in ``compile`` and
standalone."""

import numpy as np


def run(keras, sync):
    ops, layers = keras.ops, keras.layers
    keras.backend.clear_session()

    class CategoricalTruePositives(keras.metrics.Metric):
        def __init__(self, name="categorical_true_positives", **kwargs):
            super().__init__(name=name, **kwargs)
            self.true_positives = self.add_variable(shape=(), name="ctp", initializer="zeros")

        def update_state(self, y_true, y_pred, sample_weight=None):
            y_pred = ops.reshape(ops.argmax(y_pred, axis=1), (-1, 1))
            values = ops.cast(y_true, "int32") == ops.cast(y_pred, "int32")
            values = ops.cast(values, "float32")
            if sample_weight is not None:
                sample_weight = ops.cast(sample_weight, "float32")
                values = ops.multiply(values, sample_weight)
            self.true_positives.assign_add(ops.sum(values))

        def result(self):
            return self.true_positives

        def reset_state(self):
            self.true_positives.assign(0.0)

    rng = np.random.default_rng(0)
    x = rng.normal(size=(160, 10)).astype("float32")
    y = np.argmax(x[:, :4], axis=1).reshape(-1, 1)
    inputs = keras.Input(shape=(10,), name="digits")
    hidden = layers.Dense(32, activation="relu", name="dense_1")(inputs)
    outputs = layers.Dense(4, name="predictions")(hidden)
    model = keras.Model(inputs, outputs)
    sync(model)
    model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=[CategoricalTruePositives()])
    history = model.fit(x[:128], y[:128], batch_size=32, epochs=3, shuffle=False, verbose=0)

    metric = CategoricalTruePositives()
    predictions = model.predict(x, verbose=0)
    metric.update_state(y, predictions, sample_weight=np.linspace(0, 1, len(x)).astype("float32"))
    weighted = float(ops.convert_to_numpy(metric.result()))
    metric.reset_state()
    return {"history": history.history, "evaluate": model.evaluate(x[128:], y[128:], verbose=0),
            "weighted": weighted, "after_reset": float(ops.convert_to_numpy(metric.result())),
            "metric_name": metric.name}
