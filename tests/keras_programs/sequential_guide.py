"""The Sequential model guide: a stack built in the constructor and with ``add``, ``pop``,
``summary``, then trained on a small regression problem."""

import numpy as np


def run(keras, sync):
    layers, ops = keras.layers, keras.ops
    keras.backend.clear_session()

    model = keras.Sequential([
        layers.Dense(2, activation="relu", name="layer1"),
        layers.Dense(3, activation="relu", name="layer2"),
        layers.Dense(4, name="layer3"),
    ])
    y = model(ops.ones((3, 3)))  # built on first call
    names = [layer.name for layer in model.layers]
    model.pop()
    after_pop = len(model.layers)

    model = keras.Sequential(name="my_sequential")
    model.add(keras.Input(shape=(8,)))
    model.add(layers.Dense(16, activation="relu"))
    model.add(layers.Dense(16, activation="relu"))
    model.add(layers.Dense(1))
    model.summary()
    sync(model)

    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 8)).astype("float32")
    target = (x[:, :1] * 2.0 - x[:, 1:2] + 0.5).astype("float32")
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.05, momentum=0.9), loss="mse",
                  metrics=["mae"])
    history = model.fit(x, target, batch_size=32, epochs=3, shuffle=False, verbose=0)
    return {
        "first_output_shape": tuple(y.shape),
        "names": names,
        "after_pop": after_pop,
        "params": model.count_params(),
        "history": history.history,
        "evaluate": model.evaluate(x, target, batch_size=64, verbose=0),
        "predictions": model.predict(x[:10], verbose=0),
    }
