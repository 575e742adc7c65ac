"""Dataset loaders: synthetic problems, scikit-learn's bundled sets, and real data read
from a local folder (never downloaded at load time).

=====================  ==============================================================
synthetic (NumPy)      ``xor``, ``spiral``, ``moons``, ``circles`` -> ``(X, y)``
scikit-learn bundled   ``iris``, ``digits``, ``breast_cancer`` -> ``Bunch``
from the data folder   ``mnist``, ``fashion_mnist``, ``cifar10`` -> ``(images, labels)``;
                       ``wine_quality`` -> ``Bunch``; ``names`` -> dict;
                       ``tiny_shakespeare`` -> str
=====================  ==============================================================

The data folder is the ``data_dir`` argument, else the ``SHENDU_DATA`` environment
variable, else ``~/.shendu/datasets``; each dataset has its own sub-folder
(``mnist/``, ``fashion-mnist/``, ``cifar-10-batches-bin/``, ``wine-quality/``, ``names/``,
``tinyshakespeare/``).
A missing file raises ``FileNotFoundError`` saying which files to put where.

>>> import shendu.datasets as ds
>>> X, y = ds.moons(200, noise=0.1, seed=0); X.shape, X.dtype, y.dtype
((200, 2), dtype('float32'), dtype('int64'))
"""
from .bunch import Bunch
from .cifar import CIFAR10_CLASSES, CIFARFormatError, cifar10
from .idx import IDXFormatError, read_idx
from .paths import ENV_VAR, data_home
from .sklearn_datasets import breast_cancer, digits, iris
from .synthetic import circles, moons, spiral, xor
from .text import NAMES_LANGUAGES, names, tiny_shakespeare, tiny_shakespeare_speeches
from .sequences import names_by_language, addition, addition_split, addition_vocab, encode_addition
from .vision import FASHION_MNIST_CLASSES, MNIST_CLASSES, fashion_mnist, mnist
from .wine import wine_quality

__all__ = ["Bunch", "IDXFormatError", "read_idx", "data_home", "ENV_VAR",
           "xor", "spiral", "moons", "circles", "iris", "digits", "breast_cancer",
           "mnist", "fashion_mnist", "MNIST_CLASSES", "FASHION_MNIST_CLASSES",
           "wine_quality", "names", "tiny_shakespeare", "tiny_shakespeare_speeches",
           "NAMES_LANGUAGES",
           "cifar10", "CIFAR10_CLASSES", "CIFARFormatError"]
__all__ += ["names_by_language", "addition", "addition_split", "addition_vocab", "encode_addition"]
