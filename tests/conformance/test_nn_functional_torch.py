"""nn.functional's fused ops against PyTorch 2.13: the CASES of
tests/test_nn_functional.py (forward and gradients in float32). The dropout cases draw
from shendu's generator, not torch's, so they are checked by their statistics in
tests/test_nn_functional.py instead."""
import pytest

from harness import check_conformance, params
from test_nn_functional import CASES

pytest.importorskip("torch", reason="PyTorch is not installed: the conformance suite needs "
                    "`pip install torch==2.13.0`")


@params([c for c in CASES if c.torch_fn is not None])
def test_conformance(case):
    check_conformance(case)
