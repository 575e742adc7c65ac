"""``shendu.nn.utils.rnn``: packing and padding of variable-length sequences (the
same names as ``torch.nn.utils.rnn``); the implementation lives in ``shendu.nn.rnn_utils``.

>>> from shendu.nn.utils.rnn import pack_sequence
>>> pack_sequence([shendu.tensor([1.0, 2.0]), shendu.tensor([3.0])]).batch_sizes
tensor([2, 1])
"""
from ..rnn_utils import *  # noqa: F401,F403
from ..rnn_utils import __all__  # noqa: F401
