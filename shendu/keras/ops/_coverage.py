"""The ``keras.ops`` names (Keras 3.15.1) that ``shendu.keras.ops`` does not provide, each
with the reason. ``getattr(keras.ops, name)`` for one of them raises an AttributeError
that says why; ``tests/test_keras_ops_coverage.py`` checks that every Keras name is either
provided or listed here."""

_DECOMPOSITION = ("shendu has no differentiable matrix decompositions; compute it with NumPy "
                  "(ops.convert_to_numpy, then numpy.linalg) outside the graph")
_COMPLEX = "shendu tensors are real: there are no complex dtypes (FFTs need them)"

_NO_INVERSE_TRIG = ("shendu has no inverse trigonometric or hyperbolic op with a gradient "
                    "check yet; write it from exp/log/sqrt (e.g. sinh(x) = (exp(x) - "
                    "exp(-x)) / 2) or use NumPy outside the graph")

NOT_COVERED = {
    **{name: _NO_INVERSE_TRIG for name in ("arcsin", "arccos", "arctan", "arctan2", "sinh",
                                           "cosh", "arcsinh", "arccosh", "arctanh")},
    "cholesky": _DECOMPOSITION, "cholesky_inverse": _DECOMPOSITION, "det": _DECOMPOSITION,
    "eig": _DECOMPOSITION, "eigh": _DECOMPOSITION, "inv": _DECOMPOSITION,
    "logdet": _DECOMPOSITION, "lstsq": _DECOMPOSITION, "lu_factor": _DECOMPOSITION,
    "matrix_rank": _DECOMPOSITION, "pinv": _DECOMPOSITION, "qr": _DECOMPOSITION,
    "slogdet": _DECOMPOSITION, "solve": _DECOMPOSITION, "solve_triangular": _DECOMPOSITION,
    "svd": _DECOMPOSITION,
    "fft": _COMPLEX, "fft2": _COMPLEX, "ifft2": _COMPLEX, "rfft": _COMPLEX, "irfft": _COMPLEX,
    "stft": _COMPLEX, "istft": _COMPLEX, "polar": _COMPLEX, "view_as_complex": _COMPLEX,
    "view_as_real": _COMPLEX,
    "custom_gradient": "write a shendu.autograd.Function (forward and backward) instead",
    "jvp": "shendu's autograd is reverse mode only (use backward / shendu.autograd.grad)",
    "erfinv": "no inverse error function in shendu.ops yet",
    "extract_sequences": "framing for stft (complex signals); not provided",
    "fold": "use shendu.nn.functional.fold (PyTorch's layout)",
    "rearrange": "einops patterns are not parsed; use ops.reshape / ops.transpose",
    "view": "reinterpreting a tensor's bytes as another dtype is not supported",
}
