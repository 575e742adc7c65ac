import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))  # tests/harness.py

import shendu  # noqa: E402


@pytest.fixture(autouse=True)
def _seed_and_default_dtype():
    """Every test starts from the same seed and float32 default dtype."""
    shendu.manual_seed(0)
    np.random.seed(0)
    yield
    shendu.set_default_dtype(shendu.float32)
    shendu.set_grad_enabled(True)
