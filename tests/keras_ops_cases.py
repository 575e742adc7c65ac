"""The keras.ops cases compared with real Keras 3 (shared by the generator script
``tests/data/make_keras_ops_expected.py``, run under Keras, and
``tests/test_keras_ops.py``, run under shendu). Inputs are NumPy arrays made here."""
import numpy as np

_rng = np.random.default_rng(0)
A = _rng.normal(size=(3, 4)).astype(np.float32)
B = _rng.normal(size=(4, 5)).astype(np.float32)
P = _rng.uniform(0.05, 0.95, size=(3, 4)).astype(np.float32)
T = (_rng.uniform(size=(3, 4)) > 0.5).astype(np.float32)
IMG = _rng.normal(size=(2, 6, 6, 3)).astype(np.float32)
KER = _rng.normal(size=(3, 3, 3, 4)).astype(np.float32)
DKER = _rng.normal(size=(3, 3, 3, 2)).astype(np.float32)
TKER = _rng.normal(size=(3, 3, 4, 3)).astype(np.float32)
SEQ = _rng.normal(size=(2, 7, 3)).astype(np.float32)
Q = _rng.normal(size=(2, 5, 2, 4)).astype(np.float32)
LAB = np.array([0, 3, 1])
I = np.array([[1, 2], [3, 4]])

# (name, positional args, keyword args)
CASES = [
    ("mean", (A,), {}), ("mean", (A,), {"axis": 1, "keepdims": True}), ("mean", (I,), {}),
    ("sum", (A,), {"axis": (0, 1)}), ("max", (A,), {"axis": 0}), ("min", (A,), {}),
    ("var", (A,), {"axis": -1}), ("std", (A,), {}), ("prod", (P,), {"axis": 1}),
    ("argmax", (A,), {"axis": -1}), ("argmin", (A,), {}), ("logsumexp", (A,), {"axis": 1}),
    ("cumsum", (A,), {"axis": 1}), ("cumprod", (P,), {"axis": 0}), ("cumsum", (A,), {}),
    ("square", (A,), {}), ("sqrt", (P,), {}), ("exp", (A,), {}), ("log", (P,), {}),
    ("abs", (A,), {}), ("sign", (A,), {}), ("expm1", (A,), {}), ("log1p", (P,), {}),
    ("arctan", (A,), {}), ("sinh", (A,), {}), ("arcsin", (P,), {}), ("cbrt", (A,), {}),
    ("maximum", (A, 0.0), {}), ("minimum", (A, P[:, :4]), {}), ("clip", (A, -0.5, 0.5), {}),
    ("power", (P, 2.5), {}), ("divide", (I, 3), {}), ("floor_divide", (I, 3), {}),
    ("mod", (A, 0.7), {}), ("where", (A > 0, A, P), {}), ("logaddexp", (A, P), {}),
    ("concatenate", ([A, P],), {"axis": 0}), ("stack", ([A, P],), {"axis": 1}),
    ("reshape", (A, (2, -1)), {}), ("transpose", (SEQ,), {"axes": (2, 0, 1)}),
    ("transpose", (A,), {}), ("expand_dims", (A, 1), {}), ("squeeze", (A[:1],), {}),
    ("matmul", (A, B), {}), ("dot", (A, B), {}), ("einsum", ("ij,jk->ik", A, B), {}),
    ("tensordot", (A, B), {"axes": 1}), ("outer", (A[0], B[0]), {}),
    ("take", (A, [2, 0]), {"axis": 1}), ("take_along_axis", (A, np.argsort(A, 1)), {"axis": 1}),
    ("tile", (A, (2, 1)), {}), ("repeat", (A, 2), {"axis": 0}), ("flip", (A,), {"axis": 1}),
    ("roll", (A, 1), {"axis": 1}), ("pad", (A, ((1, 0), (0, 2))), {}),
    ("pad", (A, ((1, 1), (2, 2))), {"mode": "reflect"}), ("tril", (A,), {"k": 0}),
    ("sort", (A,), {}), ("arange", (5,), {}), ("arange", (0.0, 1.0, 0.25), {}),
    ("linspace", (0.0, 1.0, 5), {}), ("eye", (3,), {}), ("zeros", ((2, 3),), {}),
    ("full", ((2,), 7), {}), ("diag", (A[0],), {}), ("diagonal", (A,), {}),
    ("trace", (A,), {}), ("norm", (A,), {}), ("norm", (A,), {"axis": 1, "ord": 1}),
    ("quantile", (A, 0.3), {"axis": 1}), ("median", (A,), {}), ("diff", (A,), {}),
    ("count_nonzero", (T,), {"axis": 0}), ("average", (A,), {"axis": 1, "weights": P[0]}),
    ("cast", (A, "int32"), {}), ("one_hot", (LAB, 4), {}),
    ("relu", (A,), {}), ("sigmoid", (A,), {}), ("softmax", (A,), {}),
    ("log_softmax", (A,), {"axis": 0}), ("gelu", (A,), {}), ("gelu", (A,), {"approximate": False}),
    ("silu", (A,), {}), ("leaky_relu", (A,), {}), ("elu", (A,), {}), ("selu", (A,), {}),
    ("softplus", (A,), {}), ("hard_sigmoid", (A,), {}), ("glu", (A,), {}),
    ("log_sigmoid", (A,), {}), ("relu6", (A * 5,), {}), ("sparsemax", (A,), {}),
    ("binary_crossentropy", (T, P), {}), ("binary_crossentropy", (T, A), {"from_logits": True}),
    ("categorical_crossentropy", (T, P), {}),
    ("categorical_crossentropy", (T, A), {"from_logits": True}),
    ("sparse_categorical_crossentropy", (LAB, P), {}),
    ("sparse_categorical_crossentropy", (LAB, A), {"from_logits": True}),
    ("conv", (IMG, KER), {}), ("conv", (IMG, KER), {"strides": 2, "padding": "same"}),
    ("conv", (SEQ, KER[0]), {"padding": "same"}),
    ("depthwise_conv", (IMG, DKER), {"padding": "same"}),
    ("conv_transpose", (IMG[..., :3], TKER[..., :3]), {"strides": 2, "padding": "same"}),
    ("max_pool", (IMG, 2), {}), ("max_pool", (IMG, 3), {"strides": 2, "padding": "same"}),
    ("average_pool", (IMG, 3), {"strides": 2, "padding": "same"}),
    ("average_pool", (SEQ, 2), {}),
    ("moments", (IMG, (0, 1, 2)), {}),
    ("batch_normalization", (A, A.mean(0), A.var(0), -1), {"offset": P[0], "scale": P[1]}),
    ("layer_normalization", (A,), {}), ("normalize", (A,), {}),
    ("dot_product_attention", (Q, Q, Q), {}),
    ("dot_product_attention", (Q, Q, Q), {"is_causal": True}),
    ("depth_to_space", (np.tile(IMG, (1, 1, 1, 4))[..., :12], 2), {}),
    ("slice_update", (A, (1, 1), P[:2, :2]), {}),
    ("scatter", (np.array([[0, 1], [2, 3]]), np.array([1.0, 2.0], np.float32), (3, 4)), {}),
    ("segment_sum", (A, np.array([0, 0, 1])), {}), ("nanmean", (A,), {}),
    ("cdist", (A, P), {}), ("top_k", (A, 2), {}),
    ("image.resize", (IMG, (9, 4)), {}), ("image.resize", (IMG, (3, 3)), {"interpolation": "nearest"}),
    ("image.rgb_to_grayscale", (IMG,), {}),
]

# ops with a float gradient to check against PyTorch-free central differences
GRAD_CASES = ["mean", "sum", "max", "var", "logsumexp", "cumprod", "sort", "quantile", "norm",
              "softmax", "gelu", "glu", "sparsemax", "categorical_crossentropy", "conv",
              "depthwise_conv", "conv_transpose", "max_pool", "average_pool",
              "layer_normalization", "dot_product_attention", "slice_update", "cdist",
              "image.resize", "take_along_axis", "pad"]
