"""A custom layer written only with ``keras.ops`` (the backend-agnostic style of the Keras 3
guides): radial-basis features with learned centres, a softmax over them, and a gated
residual, trained inside a functional model."""

import numpy as np


def run(keras, sync):
    layers, ops = keras.layers, keras.ops
    keras.backend.clear_session()

    class RBFSoftmax(keras.layers.Layer):
        def __init__(self, centers, gamma=0.5, **kwargs):
            super().__init__(**kwargs)
            self.centers, self.gamma = centers, gamma

        def build(self, input_shape):
            self.mu = self.add_weight(shape=(self.centers, input_shape[-1]),
                                      initializer="random_normal", name="mu")
            self.gate = self.add_weight(shape=(1,), initializer="zeros", name="gate")

        def call(self, x):
            diff = ops.expand_dims(x, 1) - ops.expand_dims(self.mu, 0)      # (b, c, d)
            dist = ops.sum(ops.square(diff), axis=-1)                     # (b, c)
            weights = ops.softmax(-self.gamma * dist, axis=-1)
            mixed = ops.matmul(weights, self.mu)                          # (b, d)
            gate = ops.sigmoid(self.gate)
            out = gate * mixed + (1.0 - gate) * x
            norm = ops.sqrt(ops.maximum(ops.sum(out * out, axis=-1, keepdims=True), 1e-12))
            return ops.concatenate([out / norm, ops.log(ops.max(weights, axis=-1,
                                                                 keepdims=True))], axis=-1)

    inputs = keras.Input(shape=(4,))
    h = RBFSoftmax(8, name="rbf")(inputs)
    outputs = layers.Dense(3, name="head")(h)
    model = keras.Model(inputs, outputs)
    sync(model)

    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 4)).astype("float32")
    y = np.argmax(x[:, :3], axis=-1)
    initial = model.predict(x[:8], verbose=0)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    history = model.fit(x, y, batch_size=20, epochs=3, shuffle=False, verbose=0)
    logits = model.predict(x[:8], verbose=0)
    top = ops.top_k(ops.convert_to_tensor(logits), k=2)
    return {"initial": initial, "history": history.history, "predictions": logits,
            "top_k_indices": ops.convert_to_numpy(top[1]),
            "one_hot": ops.convert_to_numpy(ops.one_hot(ops.argmax(logits, axis=-1), 3))}
