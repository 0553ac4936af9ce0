"""A variational autoencoder in the style of the subclassing guide, on scikit-learn's digits: the
reconstruction and KL terms are added with ``add_loss`` in ``call``, the model is compiled with an
optimizer only and fit on ``x`` without targets. ``Sampling`` adds noise only when training, so
``evaluate`` and ``predict`` are deterministic and compared number by number; a second VAE
without noise trains deterministically and its history is compared too."""

import numpy as np
from sklearn.datasets import load_digits


def run(keras, sync):
    ops, layers = keras.ops, keras.layers
    keras.backend.clear_session()

    class Sampling(layers.Layer):
        """z = z_mean + exp(z_log_var / 2) * epsilon while training (when ``noise``)."""

        def __init__(self, noise=True, **kwargs):
            super().__init__(**kwargs)
            self.noise = noise
            self.seed_generator = keras.random.SeedGenerator(1337)

        def call(self, inputs, training=None):
            z_mean, z_log_var = inputs
            if not (training and self.noise):
                return z_mean
            epsilon = keras.random.normal(shape=ops.shape(z_mean), seed=self.seed_generator)
            return z_mean + ops.exp(0.5 * z_log_var) * epsilon

    class VAE(keras.Model):
        def __init__(self, original_dim, latent_dim=4, noise=True, **kwargs):
            super().__init__(**kwargs)
            self.hidden = layers.Dense(32, activation="relu", name="hidden")
            self.dense_mean = layers.Dense(latent_dim, name="z_mean")
            self.dense_log_var = layers.Dense(latent_dim, name="z_log_var")
            self.sampling = Sampling(noise)
            self.decode_hidden = layers.Dense(32, activation="relu", name="decode_hidden")
            self.decode_out = layers.Dense(original_dim, activation="sigmoid", name="decoded")

        def call(self, inputs):
            h = self.hidden(inputs)
            z_mean, z_log_var = self.dense_mean(h), self.dense_log_var(h)
            z = self.sampling((z_mean, z_log_var))
            reconstructed = self.decode_out(self.decode_hidden(z))
            self.add_loss(ops.mean(ops.sum(ops.square(inputs - reconstructed), axis=1)))
            self.add_loss(-0.5 * ops.mean(
                z_log_var - ops.square(z_mean) - ops.exp(z_log_var) + 1))
            return reconstructed

    x = (load_digits().data[:384] / 16.0).astype("float32")
    result = {}
    for noise in (True, False):
        vae = VAE(64, noise=noise)
        vae(ops.convert_to_tensor(x[:2]))
        for layer in (vae.hidden, vae.dense_mean, vae.dense_log_var, vae.decode_hidden,
                      vae.decode_out):
            sync(layer)
        vae.compile(optimizer="adam")
        key = "noisy" if noise else "exact"
        result[key + "_evaluate"] = vae.evaluate(x, verbose=0)
        result[key + "_history"] = vae.fit(x, epochs=4, batch_size=32, shuffle=False,
                                           verbose=0).history
        result[key + "_predictions"] = vae.predict(x[:8], verbose=0)
        result[key + "_losses"] = len(vae.losses)
    return result
