"""What of PyTorch 2.13's API shendu does not provide, why, and what to use instead.

``NOT_COVERED_FUNCTIONS`` (``torch.<name>``) and ``NOT_COVERED_METHODS``
(``Tensor.<name>``) map each missing public name to a sentence a learner can act on.
``shendu.<name>`` and ``tensor.<name>`` raise an AttributeError with that sentence
(shendu/__init__.py's module ``__getattr__`` and ``Tensor.__getattr__``), and
tests/test_torch_api_coverage.py checks that every name of PyTorch's lists
(tests/data/torch_2_13_0_*.txt) is either provided or listed here, with the counts
that docs/porting.md states.

>>> import shendu
>>> try:
...     shendu.svd
... except AttributeError as e:
...     print(str(e)[:57])
shendu.svd: PyTorch's torch.svd is not provided by shendu
"""
from __future__ import annotations


def _group(names, reason):
    return {n: reason for n in names.split()}


_LINALG = ("PyTorch's linear algebra decompositions and solvers are not in shendu (no "
           "torch.linalg yet): compute them outside the graph with numpy.linalg on "
           "t.numpy() (no gradient), or use the differentiable shendu.inverse, det, "
           "slogdet and pinverse where they fit")
_SPECIAL = ("special functions (gamma family, Bessel, inverse erf) need SciPy-level "
            "kernels that core shendu (NumPy only) does not have: use scipy.special on "
            "t.numpy() (no gradient), or math.lgamma for a Python number")
_STRIDED = ("shendu does not expose strides for views: use Tensor.unfold (sliding "
            "windows), reshape/expand, or numpy.lib.stride_tricks on t.numpy()")
_SPARSE = ("shendu has no sparse tensors: keep the tensor dense (shendu.tensor of "
           "the dense array); a dense tensor is already what to_dense would give")
_QUANT = ("shendu has no quantized tensors: keep float32 (or use half() for float16)")
_COMPLEX = ("shendu has no complex dtypes: keep the real and imaginary parts as two "
            "real tensors (or a trailing dimension of size 2)")
_DEVICES = ("shendu runs on the CPU (NumPy) and NVIDIA GPUs (CuPy) only: use "
            "t.is_cuda, t.device and t.to('cuda') / t.cpu()")
_STORAGE = ("a shendu Tensor holds its array directly, with no separate storage "
            "object: use t.numpy() or numpy.asarray(t) for the array and t.data_ptr() "
            "for its address")
_FFT = ("shendu has no FFT: use numpy.fft or scipy.signal.stft/istft on t.numpy() "
        "(no gradient)")
_RNN = ("the low-level torch.lstm/gru/rnn_* kernels are not provided: use the modules "
        "shendu.nn.LSTM / GRU / RNN, or shendu.lstm_cell / gru_cell / rnn_tanh_cell "
        "one step at a time")
_GRID = ("spatial-transformer grid sampling is not implemented in shendu: build the "
         "sampling with indexing (shendu.gather / x[idx]) or interpolate with "
         "shendu.nn.functional.interpolate")

NOT_COVERED_FUNCTIONS = {
    **_group("cholesky cholesky_inverse cholesky_solve eig geqrf lobpcg lstsq lu lu_solve "
             "lu_unpack matrix_exp matrix_rank nuclear_norm orgqr ormqr pca_lowrank qr "
             "solve svd svd_lowrank symeig triangular_solve", _LINALG),
    **_group("digamma erfinv i0 i0_ igamma igammac lgamma mvlgamma polygamma", _SPECIAL),
    **_group("as_strided as_strided_ as_strided_copy as_strided_scatter", _STRIDED),
    **_group("stft istft", _FFT),
    **_group("gru lstm rnn_relu rnn_tanh", _RNN),
    **_group("affine_grid_generator grid_sampler grid_sampler_2d grid_sampler_3d", _GRID),
    "convolution": "the generic torch.convolution kernel is not provided: call "
                   "shendu.conv1d/conv2d/conv3d or conv_transpose1d/2d/3d",
    "conv_tbc": "the (time, batch, channel) convolution is not provided: permute to (N, C, "
                "L) and call shendu.conv1d",
    "embedding_bag": "not implemented: use shendu.nn.functional.embedding, then sum/mean "
                     "over each bag's rows",
    "embedding_renorm_": "not implemented: rescale the rows in place under no_grad with "
                         "shendu.renorm(weight, 2, 0, max_norm)",
    "feature_alpha_dropout": "not implemented: use shendu.alpha_dropout (per element) or "
                             "shendu.feature_dropout (per channel, not self-normalising)",
    "feature_alpha_dropout_": "not implemented: use shendu.alpha_dropout_ (per element)",
    "rrelu": "randomized leaky ReLU is not implemented: use "
             "shendu.nn.functional.leaky_relu with the mean slope (lower + upper) / 2",
    "rrelu_": "randomized leaky ReLU is not implemented: use "
              "x = shendu.nn.functional.leaky_relu(x, (lower + upper) / 2)",
    "triplet_margin_loss": "not implemented: write it as shendu.clamp(shendu.pairwise_"
                           "distance(a, p) - shendu.pairwise_distance(a, n) + margin, "
                           "min=0).mean()",
    "conj_physical_": "shendu has no complex dtypes: a real tensor is its own conjugate, so "
                      "there is nothing to do in place (x.conj_physical() returns x)",
    "from_file": "memory-mapped tensors are not provided: read the array with "
                 "numpy.fromfile (or numpy.memmap) and wrap it with shendu.from_numpy",
    "hash_tensor": "not provided: hash the bytes of t.numpy() (hashlib) if you need a "
                   "content hash",
    "norm_except_dim": "an internal of weight_norm: use shendu.norm(w, 2, dims, "
                       "keepdim=True) over every dimension but one",
    "set_default_tensor_type": "deprecated in PyTorch: use shendu.set_default_dtype "
                               "(float32 or float64)",
    "slice_inverse": "an internal of torch.compile's view replay: use "
                     "shendu.slice_scatter",
    "to_dlpack": "not provided: hand the array over directly, numpy.from_dlpack(t.numpy()) "
                 "or cupy.from_dlpack(t._data) on the GPU",
}

NOT_COVERED_METHODS = {
    **_group("cholesky cholesky_inverse cholesky_solve eig geqrf lstsq lu lu_solve "
             "matrix_exp orgqr ormqr qr solve svd symeig triangular_solve", _LINALG),
    **_group("digamma digamma_ erfinv erfinv_ i0 i0_ igamma igamma_ igammac igammac_ lgamma "
             "lgamma_ mvlgamma mvlgamma_ polygamma polygamma_", _SPECIAL),
    **_group("as_strided as_strided_ as_strided_scatter", _STRIDED),
    **_group("ccol_indices coalesce col_indices crow_indices dense_dim indices is_coalesced "
             "row_indices smm sparse_dim sparse_mask sparse_resize_ sparse_resize_and_clear_ "
             "sspaddmm to_dense to_sparse to_sparse_bsc to_sparse_bsr to_sparse_coo "
             "to_sparse_csc to_sparse_csr values resize_as_sparse_", _SPARSE),
    **_group("dequantize int_repr q_per_channel_axis q_per_channel_scales "
             "q_per_channel_zero_points q_scale q_zero_point qscheme", _QUANT),
    **_group("cdouble cfloat chalf imag", _COMPLEX),
    **_group("ipu is_ipu is_maia is_mps is_mtia is_vulkan is_xla is_xpu mtia xpu", _DEVICES),
    **_group("storage storage_offset storage_type untyped_storage const_data_ptr set_ "
             "is_set_to record_stream", _STORAGE),
    **_group("stft istft", _FFT),
    "as_subclass": "Tensor subclasses are not supported: wrap the tensor in your own class "
                   "that holds it as an attribute",
    "bfloat16": "NumPy has no bfloat16 dtype: use t.half() (float16) or keep float32",
    "conj_physical_": NOT_COVERED_FUNCTIONS["conj_physical_"],
    "grad_dtype": "a shendu gradient always has its tensor's dtype: read t.dtype",
    "hash_tensor": NOT_COVERED_FUNCTIONS["hash_tensor"],
    "index": "an internal indexing entry point: index with x[idx] (or shendu.gather / "
             "index_select)",
    "layout": "shendu tensors are always dense and strided (PyTorch's torch.strided): "
              "there is no layout to read",
    "map2_": "not provided: use map_ twice, or better a vectorised expression",
    "module_load": "used by load_state_dict(assign=True) in PyTorch: shendu's "
                   "load_state_dict copies the values into the existing parameters",
    "name": "named tensors are not supported: keep the dimension names in your own code "
            "(or use einops-style comments)",
    "new": "the legacy constructor x.new(...) is not provided: use x.new_tensor(data), "
           "x.new_empty(size) or x.new_zeros(size)",
    "register_post_accumulate_grad_hook": "not provided: use t.register_hook(fn) on the "
                                          "leaf (it is called with the gradient)",
    "reinforce": "removed from PyTorch in 0.4: use shendu.distributions and the "
                 "log-probability trick (loss = -log_prob * reward)",
    "resize": "deprecated in PyTorch: use x.reshape(size) (same number of elements) or "
              "x.resize_(size)",
    "resize_as": "deprecated in PyTorch: use x.reshape(other.shape) or x.resize_as_(other)",
    "slice_inverse": NOT_COVERED_FUNCTIONS["slice_inverse"],
    "to_mkldnn": "shendu has no MKL-DNN layout: NumPy already uses the CPU's BLAS",
    "to_padded_tensor": "nested tensors are not supported: pad the sequences with "
                        "shendu.nn.utils.rnn.pad_sequence",
    "volatile": "removed from PyTorch in 0.4: use `with shendu.no_grad():`",
}


def missing(kind, name):
    """The AttributeError for ``shendu.<name>`` (kind 'torch') or ``Tensor.<name>``."""
    table = NOT_COVERED_FUNCTIONS if kind == "torch" else NOT_COVERED_METHODS
    where = "torch" if kind == "torch" else "Tensor"
    if name in table:
        full = f"torch.{name}" if kind == "torch" else f"torch.Tensor.{name}"
        return AttributeError(f"{'shendu' if kind == 'torch' else where}.{name}: PyTorch's "
                              f"{full} is not provided by shendu; {table[name]}")
    if kind == "torch":
        return AttributeError(f"module 'shendu' has no attribute {name!r}")
    return AttributeError(f"'Tensor' object has no attribute {name!r}")
