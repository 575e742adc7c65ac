"""Doctests in shendu/ see ``shendu`` and ``np`` without importing them, and start seeded."""
import importlib.util

import numpy as np
import pytest

import shendu

# the numba kernels' module imports numba: without the `jit` extra there is nothing to
# collect there (tests/test_kernels.py skips with the install hint)
collect_ignore = [] if importlib.util.find_spec("numba") else [
    "shendu/_jit_kernels.py", "shendu/models/_word2vec_jit.py"]
# the scikit-learn wrappers import scikit-learn (tests/test_wrappers.py skips with the hint)
if not importlib.util.find_spec("sklearn"):
    collect_ignore += ["shendu/wrappers", "shendu/keras/wrappers.py"]
# the ONNX exporter's doctest exports a model: it needs the `onnx` extra
if not importlib.util.find_spec("onnx"):
    collect_ignore.append("shendu/io/onnx.py")
# a script that records reference values from real Keras (run by hand, not a test module)
collect_ignore += ["tests/data/make_keras_ops_expected.py", "tests/data/make_torch_api_lists.py"]
# the TensorBoard writers' doctests write event files: they need the `tensorboard` extra
if not importlib.util.find_spec("tensorboardX"):
    collect_ignore += ["shendu/utils/tensorboard.py", "shendu/utils/tensorboard_graph.py",
                       "shendu/keras/callbacks/tensorboard.py"]


@pytest.fixture(autouse=True)
def _doctest_namespace(doctest_namespace):
    doctest_namespace["shendu"] = shendu
    doctest_namespace["np"] = np
    try:  # F, nn, optim as a PyTorch user writes them
        import shendu.nn as nn
        import shendu.nn.functional as F
        doctest_namespace.update(nn=nn, F=F, optim=shendu.optim)
    except ImportError:
        pass
    shendu.manual_seed(0)
