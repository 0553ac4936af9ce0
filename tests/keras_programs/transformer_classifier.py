"""Keras's "text classification with Transformer" example on random token sequences whose
label says whether low token ids dominate: a TransformerBlock layer (MultiHeadAttention,
LayerNormalization, a Sequential feed-forward, Dropout) and a TokenAndPositionEmbedding layer
that uses ``ops.arange``.

Dropout draws different masks in each library, so training is compared in behaviour; the
untrained model's predictions are compared numerically (dropout is off there).
"""

import numpy as np


def run(keras, sync):
    layers, ops = keras.layers, keras.ops
    keras.backend.clear_session()
    keras.utils.set_random_seed(1)

    class TransformerBlock(layers.Layer):
        def __init__(self, embed_dim, num_heads, ff_dim, rate=0.1, **kwargs):
            super().__init__(**kwargs)
            self.att = layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)
            self.ffn = keras.Sequential([layers.Dense(ff_dim, activation="relu"),
                                         layers.Dense(embed_dim)])
            self.layernorm1 = layers.LayerNormalization(epsilon=1e-6)
            self.layernorm2 = layers.LayerNormalization(epsilon=1e-6)
            self.dropout1 = layers.Dropout(rate)
            self.dropout2 = layers.Dropout(rate)

        def call(self, inputs):
            attn_output = self.att(inputs, inputs)
            attn_output = self.dropout1(attn_output)
            out1 = self.layernorm1(inputs + attn_output)
            ffn_output = self.ffn(out1)
            ffn_output = self.dropout2(ffn_output)
            return self.layernorm2(out1 + ffn_output)

    class TokenAndPositionEmbedding(layers.Layer):
        def __init__(self, maxlen, vocab_size, embed_dim, **kwargs):
            super().__init__(**kwargs)
            self.token_emb = layers.Embedding(input_dim=vocab_size, output_dim=embed_dim)
            self.pos_emb = layers.Embedding(input_dim=maxlen, output_dim=embed_dim)

        def call(self, x):
            maxlen = ops.shape(x)[-1]
            positions = ops.arange(start=0, stop=maxlen, step=1)
            return self.token_emb(x) + self.pos_emb(positions)

    vocab_size, maxlen, embed_dim, num_heads, ff_dim = 50, 20, 16, 2, 16
    rng = np.random.default_rng(0)
    x = rng.integers(0, vocab_size, size=(480, maxlen))
    y = ((x < vocab_size // 2).mean(axis=1) > 0.5).astype("int64")
    x_train, y_train, x_val, y_val = x[:400], y[:400], x[400:], y[400:]

    inputs = layers.Input(shape=(maxlen,))
    embedding_layer = TokenAndPositionEmbedding(maxlen, vocab_size, embed_dim, name="embed")
    h = embedding_layer(inputs)
    h = TransformerBlock(embed_dim, num_heads, ff_dim, name="block")(h)
    h = layers.GlobalAveragePooling1D()(h)
    h = layers.Dropout(0.1)(h)
    h = layers.Dense(16, activation="relu", name="hidden")(h)
    h = layers.Dropout(0.1)(h)
    outputs = layers.Dense(2, activation="softmax", name="out")(h)
    model = keras.Model(inputs=inputs, outputs=outputs)
    sync(model)

    initial = model.predict(x_val[:8], verbose=0)
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x_train, y_train, batch_size=32, epochs=4,
                        validation_data=(x_val, y_val), verbose=0)
    return {"initial": initial, "history": history.history,
            "evaluate": model.evaluate(x_val, y_val, verbose=0)}
