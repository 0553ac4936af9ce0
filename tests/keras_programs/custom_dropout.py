"""The subclassing guide's ``CustomDropout``: a layer whose ``call(inputs, training=None)`` drops
only when training. ``fit`` must call it with ``training=True``; ``predict`` and ``evaluate``
with ``training=False``, so they equal a model without the layer that holds the same weights."""

import numpy as np


def run(keras, sync):
    ops, layers = keras.ops, keras.layers
    keras.backend.clear_session()

    class CustomDropout(layers.Layer):
        def __init__(self, rate, **kwargs):
            super().__init__(**kwargs)
            self.rate = rate
            self.seed_generator = keras.random.SeedGenerator(1337)

        def call(self, inputs, training=None):
            if training:
                return keras.random.dropout(inputs, rate=self.rate, seed=self.seed_generator)
            return inputs

    def build(dropout):
        inputs = keras.Input(shape=(8,))
        x = layers.Dense(32, activation="relu", name="hidden")(inputs)
        if dropout:
            x = CustomDropout(0.5)(x)
        return keras.Model(inputs, layers.Dense(1, name="head")(x))

    rng = np.random.default_rng(0)
    x = rng.normal(size=(128, 8)).astype("float32")
    y = (x[:, :1] - 0.5 * x[:, 1:2]).astype("float32")
    model, plain = build(dropout=True), build(dropout=False)
    sync(model)
    plain.set_weights(model.get_weights())
    xt = ops.convert_to_tensor(x[:16])
    train_a = ops.convert_to_numpy(model(xt, training=True))
    train_b = ops.convert_to_numpy(model(xt, training=True))
    result = {
        "initial": model.predict(x, verbose=0),
        "predict_is_plain": bool(np.array_equal(model.predict(x, verbose=0),
                                                plain.predict(x, verbose=0))),
        "inference_call_is_plain": bool(np.allclose(
            ops.convert_to_numpy(model(xt, training=False)), ops.convert_to_numpy(plain(xt)))),
        "training_calls_differ": bool(not np.allclose(train_a, train_b)),
        "training_call_is_plain": bool(np.allclose(train_a, ops.convert_to_numpy(plain(xt)))),
    }
    for m in (model, plain):
        m.compile(optimizer=keras.optimizers.SGD(learning_rate=0.01), loss="mse")
    result["evaluate"] = model.evaluate(x, y, verbose=0)
    result["evaluate_is_plain"] = bool(np.isclose(result["evaluate"], plain.evaluate(x, y, verbose=0)))
    result["history"] = model.fit(x, y, batch_size=32, epochs=4, shuffle=False, verbose=0).history
    result["plain_history"] = plain.fit(x, y, batch_size=32, epochs=4, shuffle=False,
                                        verbose=0).history
    return result
