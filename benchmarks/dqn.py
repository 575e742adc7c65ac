"""DQN update speed against PyTorch 2.13 CPU.

One DQN update, batch 64, a 4-64-64-2 ReLU MLP (CartPole's sizes), float32: the target
network's forward under no_grad, max over actions, the TD target
``r + gamma (1 - terminated) max_a Q_target(s', a)``, the online forward, the chosen
actions' Q-values by ``gather``, Huber loss (``smooth_l1_loss``), backward, gradient-norm
clipping at 10 and an Adam step. shendu runs ``DQN.update`` itself (the library's hot
loop, as ``train`` calls it); PyTorch runs the same update written out, with the same
weights and batch, in alternating rounds. Target ratio <= 1.3. A second line times the
same update without clipping, and a third the 256-256 network of the CartPole lesson.

Run: python benchmarks/dqn.py [--quick]

Measured (2-core AMD EPYC, AVX2, OMP_NUM_THREADS=OPENBLAS_NUM_THREADS=1, torch 2.13 CPU):
4-64-64-2 with clipping: shendu 769 us, torch 1100 us, ratio 0.70; without clipping
0.69; 4-256-256-2: 0.78.
"""
from __future__ import annotations

import sys

from _compare import compare  # sets thread counts before numpy/torch load

import numpy as np
import torch

import shendu
from shendu.rl.buffers import Batch
from shendu.rl.dqn import DQN
from shendu.rl.env import Env
from shendu.rl.spaces import Box, Discrete

QUICK = "--quick" in sys.argv
torch.set_num_threads(int(__import__("os").environ["OMP_NUM_THREADS"]))


class _Shapes(Env):
    """Only the spaces of CartPole: DQN.update needs no stepping."""

    def __init__(self):
        super().__init__()
        self.observation_space = Box(-5.0, 5.0, shape=(4,))
        self.action_space = Discrete(2)


def twin(module, hidden):
    layers, width = [], 4
    for h in hidden:
        layers += [torch.nn.Linear(width, h), torch.nn.ReLU()]
        width = h
    t = torch.nn.Sequential(*layers, torch.nn.Linear(width, 2))
    t.load_state_dict({k: torch.tensor(v.numpy()) for k, v in module.state_dict().items()})
    return t


def bench(hidden=(64, 64), max_grad_norm=10.0):
    agent = DQN(_Shapes(), hidden=hidden, lr=1e-4, gamma=0.99, batch_size=64,
                max_grad_norm=max_grad_norm, seed=0)
    online, target = twin(agent.q_network, hidden), twin(agent.target_network, hidden)
    opt = torch.optim.Adam(online.parameters(), lr=1e-4)
    rng = np.random.default_rng(0)
    batch = Batch(rng.standard_normal((64, 4)).astype(np.float32), rng.integers(0, 2, 64),
                  rng.standard_normal(64).astype(np.float32),
                  rng.standard_normal((64, 4)).astype(np.float32), rng.random(64) < 0.1,
                  np.ones(64, np.int64))

    def theirs():
        # from the same NumPy batch as shendu's, as a replay buffer would give it
        s, a, r = (torch.from_numpy(batch.obs), torch.from_numpy(batch.actions),
                   torch.from_numpy(batch.rewards))
        s2, done = torch.from_numpy(batch.next_obs), torch.from_numpy(batch.terminated)
        with torch.no_grad():
            y = r + 0.99 * (~done) * target(s2).max(1).values
        q = online(s).gather(1, a[:, None]).squeeze(1)
        loss = torch.nn.functional.smooth_l1_loss(q, y)
        opt.zero_grad()
        loss.backward()
        if max_grad_norm is not None:
            torch.nn.utils.clip_grad_norm_(online.parameters(), max_grad_norm)
        opt.step()
        return loss.item()

    a, b = agent.update(batch), theirs()
    assert abs(a - b) < 1e-5, f"first losses differ: shendu {a}, torch {b}"
    label = (f"DQN update, batch 64, 4-{'-'.join(map(str, hidden))}-2"
             + (", clip 10" if max_grad_norm else ", no clip"))
    return compare(label, lambda: agent.update(batch), theirs, rounds=3 if QUICK else 5,
                   round_s=0.5 if QUICK else 1.0, unit="us")


if __name__ == "__main__":
    print(f"shendu {shendu.__version__} vs torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads")
    r = bench()
    bench(max_grad_norm=None)
    bench(hidden=(256, 256))
    print(f"DQN update ratio {r:.2f} (target <= 1.3)")
