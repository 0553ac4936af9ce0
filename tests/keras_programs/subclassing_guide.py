"""The "making new layers and models via subclassing" guide: a ``Linear`` layer whose weights are
made in ``build`` with ``add_weight``, a block of such layers, a config round trip, and a
subclassed ``Model`` trained with ``fit``."""

import numpy as np


def run(keras, sync):
    ops = keras.ops
    keras.backend.clear_session()

    class Linear(keras.layers.Layer):
        def __init__(self, units=32, **kwargs):
            super().__init__(**kwargs)
            self.units = units

        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], self.units),
                                     initializer="random_normal", trainable=True)
            self.b = self.add_weight(shape=(self.units,), initializer="zeros", trainable=True)

        def call(self, inputs):
            return ops.matmul(inputs, self.w) + self.b

        def get_config(self):
            return {**super().get_config(), "units": self.units}

    class MLPBlock(keras.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.linear_1 = Linear(16)
            self.linear_2 = Linear(16)
            self.linear_3 = Linear(1)

        def call(self, inputs):
            x = ops.relu(self.linear_1(inputs))
            x = ops.relu(self.linear_2(x))
            return self.linear_3(x)

    class Regressor(keras.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.block = MLPBlock()

        def call(self, inputs):
            return self.block(inputs)

    linear = Linear(4)
    y = linear(ops.ones((2, 2)))
    weight_shapes = [tuple(w.shape) for w in linear.weights]
    config = linear.get_config()
    clone = Linear.from_config(config)

    model = Regressor()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(128, 6)).astype("float32")
    target = np.sin(x[:, :1]) + 0.1 * x[:, 1:2]
    model(ops.convert_to_tensor(x[:2]))  # build the weights before they are copied
    sync(model.block)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.05), loss="mse")
    history = model.fit(x, target, batch_size=16, epochs=3, shuffle=False, verbose=0)
    return {
        "output_shape": tuple(y.shape), "weight_shapes": weight_shapes,
        "trainable": len(linear.trainable_weights), "config_units": config["units"],
        "clone_units": clone.units, "clone_name": clone.name, "name": linear.name,
        "history": history.history, "predictions": model.predict(x[:8], verbose=0),
    }
