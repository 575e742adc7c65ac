"""Regenerate tests/data/keras_ops_expected.json from real Keras 3 (torch backend):

    KERAS_BACKEND=torch python tests/data/make_keras_ops_expected.py

Each entry: the case's index, its output(s) as nested lists, and their dtypes."""
import json
import os
import sys

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "torch")
import keras  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from keras_ops_cases import CASES  # noqa: E402


def fn(name):
    obj = keras.ops
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


out = {"keras_version": keras.__version__, "cases": []}
for i, (name, args, kwargs) in enumerate(CASES):
    res = fn(name)(*args, **kwargs)
    res = list(res) if isinstance(res, (tuple, list)) else [res]
    arrays = [np.asarray(keras.ops.convert_to_numpy(r)) for r in res]
    out["cases"].append({"index": i, "name": name,
                         "values": [a.astype(np.float64).tolist() for a in arrays],
                         "dtypes": [str(a.dtype) for a in arrays]})
with open(os.path.join(os.path.dirname(__file__), "keras_ops_expected.json"), "w") as f:
    json.dump(out, f, separators=(",", ":"))
print(len(out["cases"]), "cases")
