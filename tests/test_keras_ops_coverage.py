"""Every name of Keras 3.15.1's ``keras.ops`` (tests/data/keras_3_15_1_ops_names.txt,
written from ``dir(keras.ops)``) is either provided by shendu.keras.ops or listed in
``ops.NOT_COVERED`` with a reason; docs/porting.md's coverage section states the count."""
import os
import re

from shendu.keras import ops

_HERE = os.path.dirname(__file__)


def _names():
    with open(os.path.join(_HERE, "data", "keras_3_15_1_ops_names.txt")) as f:
        return [n.strip() for n in f if n.strip()]


def test_every_keras_op_is_covered_or_listed_with_a_reason():
    names = _names()
    assert len(names) == 341
    missing = [n for n in names if n not in ops.__all__ and n not in ops.NOT_COVERED]
    assert not missing, f"keras.ops names neither covered nor in NOT_COVERED: {missing}"
    for n in ops.__all__:
        assert hasattr(ops, n), n
    both = [n for n in ops.NOT_COVERED if n in ops.__all__ or n not in names]
    assert not both, both
    assert all(len(reason) > 15 for reason in ops.NOT_COVERED.values())


def test_porting_doc_states_the_coverage():
    with open(os.path.join(_HERE, "..", "docs", "porting.md")) as f:
        text = f.read()
    covered = len([n for n in _names() if n not in ops.NOT_COVERED])
    m = re.search(r"## keras\.ops coverage.*?(\d+) of (\d+)", text, re.S)
    assert m, "docs/porting.md needs a '## keras.ops coverage' section"
    assert (int(m.group(1)), int(m.group(2))) == (covered, 341)
    for n in ops.NOT_COVERED:
        assert f"`{n}`" in text.split("## keras.ops coverage")[1], n
