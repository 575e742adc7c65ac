"""Arithmetic ops: forward values, float64 gradcheck, second derivatives."""
import numpy as np
import pytest

import shendu
from harness import Case, away_from_zero, check_gradcheck, check_gradgradcheck, params, positive

BROADCASTS = [[(3, 4), (3, 4)], [(3, 4), (4,)], [(2, 1, 4), (3, 1)], [(), (2, 3)], [(1,), (5,)]]

CASES = (
    [Case("add", lambda a, b: a + b, lambda a, b: a + b, s) for s in BROADCASTS]
    + [Case("sub", lambda a, b: a - b, lambda a, b: a - b, s) for s in BROADCASTS]
    + [Case("mul", lambda a, b: a * b, lambda a, b: a * b, s) for s in BROADCASTS]
    + [Case("div", lambda a, b: a / b, lambda a, b: a / b, s, domain=away_from_zero) for s in BROADCASTS]
    + [Case("pow", lambda a, b: a ** b, lambda a, b: a ** b, s, domain=positive) for s in BROADCASTS[:3]]
    + [Case("neg", lambda a: -a, lambda a: -a, s) for s in [[(3, 4)], [()]]]
    + [Case("pow_scalar", lambda a: a ** 3, lambda a: a ** 3, [(2, 3)])]
    + [Case("rpow_scalar", lambda a: 2.0 ** a, lambda a: 2.0 ** a, [(2, 3)])]
    + [Case("radd_rsub_rmul_rdiv", lambda a: (1 - a) * 2 + 3 / (a * a + 1),
            lambda a: (1 - a) * 2 + 3 / (a * a + 1), [(4,)])]
    + [Case("remainder", lambda a, b: a % b, lambda a, b: a % b, [(3, 4), (4,)],
            domain=[lambda r, s: r.uniform(-5, 5, s), lambda r, s: r.uniform(1.2, 1.7, s)],
            differentiable=[True, False], double=False)]
    + [Case("fmod", shendu.fmod, lambda a, b: a.fmod(b), [(3, 4), (4,)],
            domain=[lambda r, s: r.uniform(-5, 5, s), lambda r, s: r.uniform(1.2, 1.7, s)],
            differentiable=[True, False], double=False)]
    + [Case("clone", lambda a: a.clone() * 1, lambda a: a.clone() * 1, [(2, 3)])]
)


@params(CASES)
def test_gradcheck(case):
    check_gradcheck(case)


@params([c for c in CASES if c.double])
def test_gradgradcheck(case):
    check_gradgradcheck(case)


def test_forward_values():
    a = shendu.tensor([1.0, 2.0, 3.0])
    np.testing.assert_array_equal((a + 1).numpy(), [2, 3, 4])
    np.testing.assert_array_equal((2 - a).numpy(), [1, 0, -1])
    np.testing.assert_array_equal((a * a).numpy(), [1, 4, 9])
    np.testing.assert_allclose((1 / a).numpy(), [1, 0.5, 1 / 3], rtol=1e-6)
    np.testing.assert_array_equal((a // 2).numpy(), [0, 1, 1])
    np.testing.assert_array_equal((-a % 2).numpy(), [1, 0, 1])
    np.testing.assert_array_equal((a ** 2).numpy(), [1, 4, 9])


def test_python_scalars_keep_float32():
    a = shendu.ones(3)
    for r in (a + 1.5, 2.5 * a, a / 3.0, a ** 2.0, 1.0 - a, a + np.float64(2.0)):
        assert r.dtype == shendu.float32


def test_comparisons_have_no_grad():
    a = shendu.tensor([1.0, 2.0], requires_grad=True)
    for r in (a > 1, a >= 1, a < 1, a <= 1, a == 1, a != 1):
        assert r.dtype == np.bool_ and not r.requires_grad
    np.testing.assert_array_equal((a > 1.5).numpy(), [False, True])


def test_broadcast_error_is_readable():
    with pytest.raises(ValueError, match=r"add: shapes \(2, 3\) and \(4,\) do not broadcast"):
        shendu.ones(2, 3) + shendu.ones(4)


def test_type_promotion_like_pytorch():
    f, i = shendu.tensor([1.0, 2.0]), shendu.tensor([1, 2])
    assert (f + i).dtype == shendu.float32      # NumPy would give float64
    assert (i * 1.5).dtype == shendu.float32    # Python float: the default float dtype
    assert (i / 2).dtype == shendu.float32 and (i / i).dtype == shendu.float32
    assert (i + 1).dtype == shendu.int64 and (i // 2).dtype == shendu.int64
    assert (shendu.tensor([True]) + 1).dtype == shendu.int64
    assert (f.double() + f).dtype == shendu.float64
    np.testing.assert_allclose((i / 2).numpy(), [0.5, 1.0])
