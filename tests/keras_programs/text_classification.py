"""Text classification from scratch, small: ``TextVectorization`` and ``StringLookup`` are
adapted on a handful of strings and applied to the data (not inside the model, as the Keras
example does for training), and their integer ids feed ``Embedding`` ->
``GlobalAveragePooling1D`` -> ``Dense``.

Keras 3 needs TensorFlow for its string layers (not a dependency here), so the test runs
``vectorize`` under fitorch only and checks the vocabularies against Keras's ordering rule, then
runs ``classify`` under both on the same ids (``run`` is the whole program)."""

TEXTS = ["The movie was great!", "A great, great film.", "The plot was dull.",
         "Dull and slow; the acting was bad.", "Great acting, great story.", "Bad movie.",
         "The story was great", "Slow, dull, bad."]
LABELS = ["pos", "pos", "neg", "neg", "pos", "neg", "pos", "neg"]
SEQUENCE_LENGTH = 8


def vectorize(keras):
    vectorizer = keras.layers.TextVectorization(max_tokens=20, output_mode="int",
                                                output_sequence_length=SEQUENCE_LENGTH)
    vectorizer.adapt(TEXTS)
    label_lookup = keras.layers.StringLookup(num_oov_indices=0)
    label_lookup.adapt(LABELS + ["pos"])  # "pos" more frequent: index 0
    return {"vocabulary": vectorizer.get_vocabulary(),
            "label_vocabulary": label_lookup.get_vocabulary(),
            "ids": vectorizer(TEXTS), "unseen": vectorizer(["an unseen great word"]),
            "y": label_lookup(LABELS)}


def classify(keras, sync, ids, y, vocabulary_size):
    layers = keras.layers
    keras.backend.clear_session()
    model = keras.Sequential([
        keras.Input(shape=(SEQUENCE_LENGTH,), dtype="int64"),
        layers.Embedding(vocabulary_size, 8, name="embedding"),
        layers.GlobalAveragePooling1D(),
        layers.Dense(1, activation="sigmoid", name="head"),
    ])
    sync(model)
    y = keras.ops.cast(keras.ops.reshape(y, (-1, 1)), "float32")
    initial = model.predict(ids, verbose=0)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="binary_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(ids, y, batch_size=4, epochs=5, shuffle=False, verbose=0)
    return {"initial": initial, "history": history.history,
            "predictions": model.predict(ids, verbose=0)}


def run(keras, sync):
    data = vectorize(keras)
    return {**data, **classify(keras, sync, data["ids"], data["y"], len(data["vocabulary"]))}
