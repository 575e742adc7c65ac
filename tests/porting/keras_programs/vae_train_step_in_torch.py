"""keras-io examples/generative/vae.py (a convolutional VAE on MNIST with a Sampling layer
and a custom train_step), with its TensorFlow GradientTape step written the way keras.io's
PyTorch-backend guide writes a train_step (zero_grad / backward / optimizer.apply).
Changed: the imports (USE_SHENDU=1 for shendu), MNIST read from the local files, the run
reduced to VAE_STEPS batches (env) with fixed initial weights (the same on both sides)."""
import os
import json
import numpy as np
if os.environ.get("USE_SHENDU"):
    import shendu as torch
    from shendu import keras
    from shendu.keras import layers, ops
else:
    os.environ["KERAS_BACKEND"] = "torch"
    import torch
    import keras
    from keras import layers, ops

STEPS = int(os.environ.get("VAE_STEPS", "20"))
EPOCHS = int(os.environ.get("VAE_EPOCHS", "1"))


class Sampling(layers.Layer):
    """Uses (z_mean, z_log_var) to sample z, the vector encoding a digit."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator(1337)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        batch = ops.shape(z_mean)[0]
        dim = ops.shape(z_mean)[1]
        epsilon = keras.random.normal(shape=(batch, dim), seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon


latent_dim = 2

encoder_inputs = keras.Input(shape=(28, 28, 1))
x = layers.Conv2D(32, 3, activation="relu", strides=2, padding="same")(encoder_inputs)
x = layers.Conv2D(64, 3, activation="relu", strides=2, padding="same")(x)
x = layers.Flatten()(x)
x = layers.Dense(16, activation="relu")(x)
z_mean = layers.Dense(latent_dim, name="z_mean")(x)
z_log_var = layers.Dense(latent_dim, name="z_log_var")(x)
z = Sampling()([z_mean, z_log_var])
encoder = keras.Model(encoder_inputs, [z_mean, z_log_var, z], name="encoder")

latent_inputs = keras.Input(shape=(latent_dim,))
x = layers.Dense(7 * 7 * 64, activation="relu")(latent_inputs)
x = layers.Reshape((7, 7, 64))(x)
x = layers.Conv2DTranspose(64, 3, activation="relu", strides=2, padding="same")(x)
x = layers.Conv2DTranspose(32, 3, activation="relu", strides=2, padding="same")(x)
decoder_outputs = layers.Conv2DTranspose(1, 3, activation="sigmoid", padding="same")(x)
decoder = keras.Model(latent_inputs, decoder_outputs, name="decoder")

# (added) the same initial weights on both sides: glorot-uniform-like draws, zero biases
rng = np.random.default_rng(0)
for net in (encoder, decoder):
    net.set_weights([rng.uniform(-1, 1, w.shape).astype("float32") *
                     np.sqrt(6.0 / (np.prod(w.shape[:-1]) + w.shape[-1])) if w.ndim > 1
                     else np.zeros(w.shape, "float32") for w in net.get_weights()])


class VAE(keras.Model):
    def __init__(self, encoder, decoder, **kwargs):
        super().__init__(**kwargs)
        self.encoder = encoder
        self.decoder = decoder
        self.total_loss_tracker = keras.metrics.Mean(name="total_loss")
        self.reconstruction_loss_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.kl_loss_tracker = keras.metrics.Mean(name="kl_loss")

    @property
    def metrics(self):
        return [
            self.total_loss_tracker,
            self.reconstruction_loss_tracker,
            self.kl_loss_tracker,
        ]

    def call(self, data):  # (added) Keras's torch backend builds the model through call()
        return self.decoder(self.encoder(data)[2])

    def train_step(self, data):
        if isinstance(data, (tuple, list)):
            data = data[0]
        self.zero_grad()
        z_mean, z_log_var, z = self.encoder(data)
        reconstruction = self.decoder(z)
        reconstruction_loss = ops.mean(
            ops.sum(
                keras.losses.binary_crossentropy(data, reconstruction),
                axis=(1, 2),
            )
        )
        kl_loss = -0.5 * (1 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var))
        kl_loss = ops.mean(ops.sum(kl_loss, axis=1))
        total_loss = reconstruction_loss + kl_loss
        total_loss.backward()
        trainable_weights = [v for v in self.trainable_weights]
        grads = [v.value.grad for v in trainable_weights]
        with torch.no_grad():
            self.optimizer.apply(grads, trainable_weights)
        self.total_loss_tracker.update_state(total_loss)
        self.reconstruction_loss_tracker.update_state(reconstruction_loss)
        self.kl_loss_tracker.update_state(kl_loss)
        return {
            "loss": self.total_loss_tracker.result(),
            "reconstruction_loss": self.reconstruction_loss_tracker.result(),
            "kl_loss": self.kl_loss_tracker.result(),
        }


import shendu.datasets as _local  # (changed) local files instead of the download
x_train = _local.mnist("train")[0][: 128 * STEPS]
mnist_digits = x_train.reshape(len(x_train), 28, 28) * (1.0 if x_train.max() <= 1 else 1 / 255.0)
mnist_digits = np.expand_dims(mnist_digits, -1).astype("float32")

vae = VAE(encoder, decoder)
vae.compile(optimizer=keras.optimizers.Adam())
history = vae.fit(mnist_digits, epochs=EPOCHS, batch_size=128, shuffle=False, verbose=0)
print(json.dumps({k: [float(v) for v in vs] for k, vs in history.history.items()}))
