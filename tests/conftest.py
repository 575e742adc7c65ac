import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))  # tests/harness.py

import shendu  # noqa: E402

try:  # property tests: the same examples on every run, so CI can't fail by chance;
    # HYPOTHESIS_PROFILE=explore searches afresh (new seeds) when hunting bugs
    from hypothesis import settings as _hypothesis_settings
    _hypothesis_settings.register_profile("repeatable", derandomize=True)
    _hypothesis_settings.register_profile("explore", derandomize=False)
    _hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))
except ImportError:  # hypothesis is in the test extra; without it those tests don't import
    pass


@pytest.fixture(autouse=True)
def _seed_and_default_dtype():
    """Every test starts from the same seed and float32 default dtype."""
    shendu.manual_seed(0)
    np.random.seed(0)
    yield
    shendu.set_default_dtype(shendu.float32)
    shendu.set_grad_enabled(True)
