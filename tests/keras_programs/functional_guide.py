"""The functional API guide's ticket classifier: three inputs (title, body, tags), two named
outputs (priority, department), losses and loss weights given as dicts keyed by output name."""

import numpy as np


def run(keras, sync):
    layers = keras.layers
    keras.backend.clear_session()
    num_tags, num_words, num_departments = 12, 100, 4

    title_input = keras.Input(shape=(None,), dtype="int64", name="title")
    body_input = keras.Input(shape=(None,), dtype="int64", name="body")
    tags_input = keras.Input(shape=(num_tags,), name="tags")
    title_features = layers.Embedding(num_words, 16)(title_input)
    body_features = layers.Embedding(num_words, 16)(body_input)
    title_features = layers.LSTM(16)(title_features)
    body_features = layers.LSTM(8)(body_features)
    x = layers.concatenate([title_features, body_features, tags_input])
    priority_pred = layers.Dense(1, name="priority")(x)
    department_pred = layers.Dense(num_departments, name="department")(x)
    model = keras.Model(inputs=[title_input, body_input, tags_input],
                        outputs={"priority": priority_pred, "department": department_pred})
    sync(model)

    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss={"priority": keras.losses.BinaryCrossentropy(from_logits=True),
              "department": keras.losses.CategoricalCrossentropy(from_logits=True)},
        loss_weights={"priority": 1.0, "department": 0.2},
    )

    rng = np.random.default_rng(0)
    title_data = rng.integers(0, num_words, size=(96, 10))
    body_data = rng.integers(0, num_words, size=(96, 20))
    tags_data = rng.integers(0, 2, size=(96, num_tags)).astype("float32")
    priority_targets = rng.random(size=(96, 1)).astype("float32")
    dept_targets = rng.integers(0, 2, size=(96, num_departments)).astype("float32")

    inputs = {"title": title_data, "body": body_data, "tags": tags_data}
    initial = model.predict(inputs, verbose=0)
    first_batch = model.train_on_batch(
        inputs, {"priority": priority_targets, "department": dept_targets})
    history = model.fit({"title": title_data, "body": body_data, "tags": tags_data},
                        {"priority": priority_targets, "department": dept_targets},
                        epochs=2, batch_size=32, shuffle=False, verbose=0)
    predictions = model.predict({"title": title_data[:8], "body": body_data[:8],
                                 "tags": tags_data[:8]}, verbose=0)
    return {"initial": initial, "first_batch": first_batch, "output_names": sorted(predictions), "history": history.history,
            "priority": predictions["priority"], "department": predictions["department"]}
