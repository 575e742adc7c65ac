"""``shendu.models``: whole models that are more than a layer, built on ``shendu.nn``.

Names load on first use (``shendu.models.RBM``), so ``import shendu`` stays light.
"""
import importlib

_LAZY = {
    "Autoencoder": "autoencoder", "dense_autoencoder": "autoencoder",
    "conv_autoencoder": "autoencoder", "GaussianNoise": "autoencoder",
    "MaskingNoise": "autoencoder", "masked_mse_loss": "autoencoder",
    "nearest_neighbours": "autoencoder",
    "VAE": "vae", "vae_loss": "vae", "gaussian_kl_divergence": "vae",
    "dcgan_generator": "gan", "dcgan_discriminator": "gan", "dcgan_init_": "gan", "GAN": "gan",
    "inception_score": "gan", "classifier_inception_score": "gan", "class_coverage": "gan",
    "ClassifierScore": "gan", "tile_images": "gan", "save_image_grid": "gan",
    "UNet": "unet", "PatchGANDiscriminator": "patchgan", "CycleGAN": "cyclegan",
    "ImagePool": "cyclegan",
    "Hopfield": "hopfield", "RecallResult": "hopfield", "capacity_curve": "hopfield",
    "BoltzmannMachine": "boltzmann", "annealing_schedule": "boltzmann",
    "RBM": "rbm", "DBN": "dbn", "train_classifier": "dbn",
    "Word2Vec": "word2vec", "KeyedVectors": "word2vec",
}

__all__ = [*_LAZY]


def __getattr__(name):
    if name in _LAZY:
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'shendu.models' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
