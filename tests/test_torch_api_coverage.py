"""Every public name of PyTorch 2.13's ``torch.Tensor`` and ``torch.*`` functions is
either provided by shendu or listed in shendu/_torch_coverage.py with a reason and what
to use instead; docs/porting.md's "## torch coverage" section states the counts.

The lists in tests/data were written from torch 2.13.0 itself
(tests/data/make_torch_api_lists.py):

* ``torch_2_13_0_tensor_methods.txt``: ``dir(torch.Tensor)`` without the names that
  start with an underscore (methods and attributes: 604 names);
* ``torch_2_13_0_functions.txt``: the names of ``dir(torch)`` without a leading
  underscore whose value is a Python function or a builtin (``types.FunctionType``,
  ``types.BuiltinFunctionType``; classes, dtypes and submodules are left out), less those
  matching this filter, families that a course or small project does not call (590
  names)::

      quantiz|^q_|fake_quant|qparams|int_repr|dequantize              quantized tensors
      |sparse|csr|csc|bsr|bsc|coo|indices_copy|^values_copy|smm$|spmm  sparse tensors
      |saddmm|hspmm|sspaddmm
      |fft|^complex$|view_as_complex|view_as_real|^polar$|^imag$       FFT, complex numbers
      |cuda|cudnn|miopen|mkldnn|fbgemm|xla|_ipu|mps|vulkan|autocast     other backends
      |profiler
      |^native_|_backward|^batch_norm_(stats|elemt|gather|update)       kernels under ops
      |ir_module|parse_|type_comment|unify_type_list|classproperty     TorchScript
      |compiled_with|^fork$|^wait$|^sym_constrain|^sym_fresh
      |thread_safe_generator|get_file_path
      |prepare_multiprocessing_environment|segment_reduce
"""
import os
import re

import pytest

import shendu
from shendu._torch_coverage import NOT_COVERED_FUNCTIONS, NOT_COVERED_METHODS

_HERE = os.path.dirname(__file__)
N_METHODS, N_FUNCTIONS = 604, 590


def _names(kind):
    with open(os.path.join(_HERE, "data", f"torch_2_13_0_{kind}.txt")) as f:
        return [n.strip() for n in f if n.strip()]


def _provided(kind, name):
    return hasattr(shendu.Tensor, name) if kind == "tensor_methods" else hasattr(shendu, name)


@pytest.mark.parametrize("kind,table,total", [
    ("tensor_methods", NOT_COVERED_METHODS, N_METHODS),
    ("functions", NOT_COVERED_FUNCTIONS, N_FUNCTIONS)])
def test_every_torch_name_is_provided_or_listed_with_a_reason(kind, table, total):
    names = _names(kind)
    assert len(names) == len(set(names)) == total
    neither = [n for n in names if not _provided(kind, n) and n not in table]
    assert not neither, f"torch {kind} neither in shendu nor in _torch_coverage: {neither}"
    both = [n for n in table if _provided(kind, n)]
    assert not both, f"provided now, remove from _torch_coverage: {both}"
    stray = [n for n in table if n not in names]
    assert not stray, f"not in PyTorch 2.13's list: {stray}"
    assert all(len(reason) > 30 for reason in table.values())


def test_missing_names_raise_an_attribute_error_that_says_what_to_use():
    x = shendu.ones(2)
    for name, reason in NOT_COVERED_METHODS.items():
        with pytest.raises(AttributeError, match=re.escape(f"torch.Tensor.{name} is not")) as e:
            getattr(x, name)
        assert reason in str(e.value)
        assert not hasattr(x, name)
    for name, reason in NOT_COVERED_FUNCTIONS.items():
        with pytest.raises(AttributeError, match=re.escape(f"torch.{name} is not")) as e:
            getattr(shendu, name)
        assert reason in str(e.value)
    with pytest.raises(AttributeError, match="'Tensor' object has no attribute 'nope'"):
        x.nope
    with pytest.raises(AttributeError, match="module 'shendu' has no attribute 'nope'"):
        shendu.nope
    assert hasattr(x, "exp") and hasattr(x, "shape") and not hasattr(x, "_nope")
    from shendu import nn  # submodule imports still work through __getattr__
    assert nn.Linear


def _section():
    with open(os.path.join(_HERE, "..", "docs", "porting.md")) as f:
        text = f.read()
    assert "## torch coverage" in text, "docs/porting.md needs a '## torch coverage' section"
    return text.split("## torch coverage")[1].split("\n## ")[0]


def test_porting_doc_states_the_coverage():
    section = _section()
    m = re.search(r"(\d+) of (\d+) Tensor methods, (\d+) of (\d+) torch functions", section)
    assert m, "state 'N of M Tensor methods, K of L torch functions' in the section"
    methods = len([n for n in _names("tensor_methods") if n not in NOT_COVERED_METHODS])
    functions = len([n for n in _names("functions") if n not in NOT_COVERED_FUNCTIONS])
    assert tuple(map(int, m.groups())) == (methods, N_METHODS, functions, N_FUNCTIONS)
    for name in set(NOT_COVERED_METHODS) | set(NOT_COVERED_FUNCTIONS):
        assert f"`{name}`" in section, name
