"""Run one ported example program as ``__main__`` on shendu or on PyTorch (the harness's
subprocess entry point; not imported by the programs).

    python run_program.py shendu|torch PROGRAM.py [program args...]

The program's folder has already been copied (and, for ``torch``, its alias lines turned
back into ``import torch ...``) by ``program_harness.py``; this file only adds the hooks below and
runs it. Before the program starts, the stdlib ``random`` and NumPy's global generator are
seeded with 0: programs that draw examples with ``random.choice`` (the char-RNN tutorial)
or ``np.random`` then see the same stream on both libraries; neither library's own
generator is touched.

Initial-weight hook (env ``PORTING_INIT=dump:PATH`` or ``load:PATH``): the first time a
parameter reaches the program's training, its value is written to PATH (``dump``, PyTorch
run) or replaced by the value read from PATH (``load``, shendu run), so both runs start
from PyTorch's initial weights. "Reaches training" means either of two events, whichever
comes first for that parameter:

* an optimizer is built over it (``Optimizer.__init__``: after any custom init such as
  DCGAN's ``weights_init``);
* a top-level module that owns it is called for the first time (``Module.__call__`` at
  depth 0: for programs with hand-written SGD, e.g. word_language_model).

Parameters of a module that the program loads whole (``torch.load(f)`` of a saved
model, word_language_model's best checkpoint) are trained values, not initial ones:
they are marked seen and left alone.

Parameters are matched by the order of these events and checked by shape (and by name
where the event knows it), so a module whose parameters shendu orders or shapes
differently from PyTorch fails loudly instead of being compared on different weights.
"""
from __future__ import annotations

import os
import random
import sys
import types

import numpy as np


class InitSync:
    """Dump (PyTorch) or load (shendu) the initial value of every parameter, in order."""

    def __init__(self, lib, mode, path):
        self.lib, self.mode, self.path = lib, mode, path
        self.seen = {}          # id(param) -> param (kept alive so ids stay unique)
        self.names, self.arrays = [], []
        if mode == "load":
            with np.load(path, allow_pickle=False) as z:
                n = int(z["count"])
                self.names = [str(z[f"name{i}"]) for i in range(n)]
                self.arrays = [z[f"value{i}"] for i in range(n)]
        self.cursor = 0

    def sync(self, named):
        for name, p in named:
            if id(p) in self.seen:
                continue
            self.seen[id(p)] = p
            if self.mode == "dump":
                self.names.append(name)
                self.arrays.append(p.detach().cpu().numpy().copy())
                self.save()
                continue
            if self.cursor >= len(self.arrays):
                raise RuntimeError(f"InitSync: parameter #{self.cursor} {name!r} {tuple(p.shape)}"
                                   f" has no PyTorch value (PyTorch's run had {len(self.arrays)})")
            want, arr = self.names[self.cursor], self.arrays[self.cursor]
            if tuple(arr.shape) != tuple(p.shape) or (name and want and name != want):
                raise RuntimeError(f"InitSync: parameter #{self.cursor} is {name!r} "
                                   f"{tuple(p.shape)} here but {want!r} {tuple(arr.shape)} in "
                                   f"PyTorch: the modules order or shape parameters differently")
            self.cursor += 1
            with self.lib.no_grad():
                p.copy_(self.lib.from_numpy(np.ascontiguousarray(arr)).to(p.dtype))

    def save(self):
        out = {"count": np.array(len(self.arrays))}
        for i, (n, a) in enumerate(zip(self.names, self.arrays)):
            out[f"name{i}"], out[f"value{i}"] = np.array(n), a
        np.savez(self.path, **out)

    def install(self):
        lib = self.lib
        Module, Optimizer = lib.nn.Module, lib.optim.Optimizer
        orig_call, orig_init = Module.__call__, Optimizer.__init__
        sync, depth = self, [0]

        def __call__(module, *args, **kwargs):
            if depth[0] == 0:
                sync.sync(list(module.named_parameters()))
            depth[0] += 1
            try:
                return orig_call(module, *args, **kwargs)
            finally:
                depth[0] -= 1

        def __init__(opt, params, *args, **kwargs):
            params = list(params)
            groups = [dict(g, params=list(g["params"])) if isinstance(g, dict) else g
                      for g in params]
            flat = []
            for g in groups:
                flat += [("", p) for p in (g["params"] if isinstance(g, dict) else [g])]
            sync.sync(flat)
            orig_init(opt, groups, *args, **kwargs)

        orig_load = lib.load

        def load(*args, **kwargs):
            obj = orig_load(*args, **kwargs)
            if isinstance(obj, Module):  # a saved model: its weights are trained ones
                for p in obj.parameters():
                    sync.seen[id(p)] = p
            return obj

        Module.__call__ = __call__
        Optimizer.__init__ = __init__
        lib.load = load


def main(argv):
    backend, program, args = argv[0], argv[1], argv[2:]
    lib = __import__(backend)
    __import__(backend + ".nn")
    __import__(backend + ".optim")
    spec = os.environ.get("PORTING_INIT", "")
    if ":" in spec:
        mode, path = spec.split(":", 1)
        InitSync(lib, mode, path).install()
    random.seed(0)
    np.random.seed(0)
    program = os.path.abspath(program)
    sys.path.insert(0, os.path.dirname(program))
    sys.argv = [program] + args
    mod = types.ModuleType("__main__")
    mod.__file__ = program
    mod.__builtins__ = __builtins__
    sys.modules["__main__"] = mod
    with open(program, encoding="utf-8") as f:
        code = compile(f.read(), program, "exec")
    exec(code, mod.__dict__)


if __name__ == "__main__":
    main(sys.argv[1:])
