"""Customizing evaluate() with PyTorch: a test_step override."""
import keras
import numpy as np


class CustomModel(keras.Model):
    def test_step(self, data):
        x, y = data
        y_pred = self(x, training=False)
        loss = self.compute_loss(y=y, y_pred=y_pred)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}


keras.utils.set_random_seed(3)
inputs = keras.Input(shape=(32,))
outputs = keras.layers.Dense(1, kernel_initializer=keras.initializers.Constant(0.05))(inputs)
model = CustomModel(inputs, outputs)
model.compile(loss="mse", metrics=["mae"])

rng = np.random.default_rng(0)
x = rng.random((256, 32)).astype("float32")
y = rng.random((256, 1)).astype("float32")
results = model.evaluate(x, y, batch_size=32, verbose=0, return_dict=True)
values = model.evaluate(x, y, batch_size=32, verbose=0)
