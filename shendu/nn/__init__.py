"""``shendu.nn``: modules (layers), parameters, initialization and the functional API.

>>> import shendu
>>> from shendu import nn
>>> model = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1))
>>> model(shendu.ones(3, 2)).shape
(3, 1)
"""
from .parameter import Parameter
from .module import Module, RemovableHandle
from .container import Sequential, ModuleList, ModuleDict, ParameterList
from .linear import Identity, Linear, Bilinear
from .conv import Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from .activation import *  # noqa: F401,F403
from .dropout import Dropout, Dropout1d, Dropout2d, Dropout3d, AlphaDropout
from .norm import BatchNorm1d, BatchNorm2d, BatchNorm3d, LayerNorm
from .norm import GroupNorm, InstanceNorm1d, InstanceNorm2d, InstanceNorm3d
from .pooling import *  # noqa: F401,F403  MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, ...
from .resample import (Upsample, UpsamplingNearest2d, UpsamplingBilinear2d, PixelShuffle,
                       PixelUnshuffle)
from .padding import *  # noqa: F401,F403  ZeroPad2d, ConstantPad2d, ReflectionPad2d, ...
from .embedding import Embedding
from .flatten import Flatten, Unflatten
from .recurrent import RNNBase, RNN, LSTM, GRU, RNNCellBase, RNNCell, LSTMCell, GRUCell
from .rnn_utils import PackedSequence
from .seq2seq_attention import BahdanauAttention, LuongAttention
from .summary import summary, ModelSummary
from .attention import MultiheadAttention, KVCache
from .transformer import (Transformer, TransformerEncoder, TransformerDecoder,
                          TransformerEncoderLayer, TransformerDecoderLayer)
from .positional import SinusoidalPositionalEncoding, LearnedPositionalEmbedding, RMSNorm
from . import init, functional, utils
from . import parallel
from .parallel import DataParallel
from . import decoding  # greedy_decode, beam_search, sample
from .ctc_decoding import ctc_greedy_decode, ctc_beam_search_decode

from .loss import *  # noqa: F401,F403  MSELoss, CrossEntropyLoss, ...
