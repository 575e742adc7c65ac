"""nn.functional's fused ops against PyTorch 2.13: the CASES of
tests/test_nn_functional.py (forward and gradients in float32)."""
import pytest

from harness import check_conformance, params
from test_nn_functional import CASES

pytest.importorskip("torch", reason="PyTorch is not installed: the conformance suite needs "
                    "`pip install torch==2.13.0`")


@params(CASES)
def test_conformance(case):
    check_conformance(case)
