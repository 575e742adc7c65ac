"""``keras.preprocessing`` (Keras 2's path, kept by Keras 3): the image helpers.

>>> from shendu.keras.preprocessing import image
>>> image.array_to_img  # doctest: +ELLIPSIS
<function array_to_img at ...>
"""
from . import image

__all__ = ["image"]
