"""Customizing fit() with PyTorch: a train_step that supports sample_weight."""
import keras
import numpy as np
import torch


class CustomModel(keras.Model):
    def train_step(self, data):
        # Unpack the data. Its structure depends on your model and on what you pass to `fit()`.
        if len(data) == 3:
            x, y, sample_weight = data
        else:
            sample_weight = None
            x, y = data
        self.zero_grad()
        y_pred = self(x, training=True)  # Forward pass
        loss = self.compute_loss(y=y, y_pred=y_pred, sample_weight=sample_weight)
        loss.backward()
        trainable_weights = [v for v in self.trainable_weights]
        gradients = [v.value.grad for v in trainable_weights]
        with torch.no_grad():
            self.optimizer.apply(gradients, trainable_weights)
        # Update the metrics, including the metric that tracks the loss.
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred, sample_weight=sample_weight)
        return {m.name: m.result() for m in self.metrics}


keras.utils.set_random_seed(5)
inputs = keras.Input(shape=(32,))
outputs = keras.layers.Dense(1, kernel_initializer=keras.initializers.Constant(0.05))(inputs)
model = CustomModel(inputs, outputs)
model.compile(optimizer="adam", loss="mse", metrics=["mae"])

rng = np.random.default_rng(0)
x = rng.random((256, 32)).astype("float32")
y = rng.random((256, 1)).astype("float32")
sw = rng.random((256, 1)).astype("float32")
history = model.fit(x, y, sample_weight=sw, batch_size=32, epochs=3, shuffle=False, verbose=0)
