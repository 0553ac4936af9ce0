"""Customizing fit() with PyTorch, lower level: own loss function and metrics, no compiled loss."""
import keras
import numpy as np
import torch


class CustomModel(keras.Model):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.mae_metric = keras.metrics.MeanAbsoluteError(name="mae")
        self.loss_fn = keras.losses.MeanSquaredError()

    def train_step(self, data):
        x, y = data
        self.zero_grad()
        y_pred = self(x, training=True)  # Forward pass
        loss = self.loss_fn(y, y_pred)
        loss.backward()
        trainable_weights = [v for v in self.trainable_weights]
        gradients = [v.value.grad for v in trainable_weights]
        with torch.no_grad():
            self.optimizer.apply(gradients, trainable_weights)
        # Compute our own metrics
        self.loss_tracker.update_state(loss)
        self.mae_metric.update_state(y, y_pred)
        return {"loss": self.loss_tracker.result(), "mae": self.mae_metric.result()}

    @property
    def metrics(self):
        # Listed here so that reset_states() is called automatically at the start of each epoch.
        return [self.loss_tracker, self.mae_metric]


keras.utils.set_random_seed(2)
inputs = keras.Input(shape=(32,))
outputs = keras.layers.Dense(1, kernel_initializer=keras.initializers.Constant(0.05))(inputs)
model = CustomModel(inputs, outputs)
# We don't pass a loss or metrics here.
model.compile(optimizer="adam")

rng = np.random.default_rng(0)
x = rng.random((256, 32)).astype("float32")
y = rng.random((256, 1)).astype("float32")
history = model.fit(x, y, batch_size=32, epochs=3, shuffle=False, verbose=0)
