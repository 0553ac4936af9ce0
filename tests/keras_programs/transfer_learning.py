"""The transfer learning guide: a feature extractor ``keras.Model(m.inputs, [l.output for l in
m.layers])`` gives every layer's output; then the base is frozen (``base.trainable = False``),
called with ``training=False`` under a new head, and only the head trains: the base's weights,
BatchNormalization's moving statistics included, stay as they were."""

import numpy as np


def run(keras, sync):
    layers = keras.layers
    keras.backend.clear_session()
    rng = np.random.default_rng(0)
    x = rng.normal(loc=1.0, scale=2.0, size=(96, 8)).astype("float32")
    y = (x[:, :1] * x[:, 1:2] > 1.0).astype("float32")

    base = keras.Sequential([
        keras.Input(shape=(8,)),
        layers.Dense(16, activation="relu", name="base_dense"),
        layers.BatchNormalization(name="base_bn"),
        layers.Dense(8, activation="relu", name="base_features"),
    ], name="base")
    sync(base)
    extractor = keras.Model(inputs=base.inputs, outputs=[layer.output for layer in base.layers])
    features = extractor.predict(x[:16], verbose=0)

    base.trainable = False
    inputs = keras.Input(shape=(8,))
    hidden = base(inputs, training=False)
    head = layers.Dense(1, activation="sigmoid", name="head")
    model = keras.Model(inputs, head(hidden))
    sync(head)
    before = [np.array(w) for w in base.get_weights()]
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="binary_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0)
    after = base.get_weights()
    return {
        "features": features, "n_features": len(features),
        "counts": (len(model.weights), len(model.trainable_weights),
                   len(model.non_trainable_weights)),
        "base_unchanged": all(np.array_equal(b, np.asarray(a)) for b, a in zip(before, after)),
        "n_base_weights": len(after), "history": history.history,
        "predictions": model.predict(x[:16], verbose=0),
    }
