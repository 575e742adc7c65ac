"""Deep Q-learning on CartPole: experience replay, a frozen target network, Huber loss.

Lessons 000 (chapter 7, "value based rl") and 004 ("Reinforcement Learning": DQN). A
table of Q-values cannot hold CartPole's continuous state (cart position and velocity,
pole angle and angular velocity), so a network ``Q_theta(s)`` outputs one value per
action (push left, push right) and is regressed on the Bellman target

    y = r + gamma * (1 - terminated) * max_a' Q_target(s', a').

The lesson's three ingredients, as the course lists them:

* **experience replay**: transitions go into a 100,000-step ring buffer and each
  update uses a random mini-batch of 64 from it, not the last correlated steps;
* **a frozen target network**: ``Q_target`` is a copy of ``Q_theta``, refreshed every
  10 environment steps while learning happens in bursts of 128 updates every 256 steps,
  so the target stays fixed during each burst;
* **bounded errors**: the Huber loss (and, for Atari, reward clipping; CartPole's reward
  is always +1, so ``reward_clip`` changes nothing here and is left off).

CartPole-v1 gives +1 per step until the pole falls (``terminated``) or 500 steps pass
(``truncated``: the target still bootstraps there, the state is not terminal). Settings:
Stable-Baselines3 rl-zoo's for CartPole DQN (lr 2.3e-3, batch 64, buffer 100k,
learning_starts 1,000, gamma 0.99, target_update_interval 10, train_freq 256,
gradient_steps 128, epsilon 1 -> 0.04 over the first 16%, a 256-256 ReLU MLP), 50,000
environment steps per seed (the target allows 100,000). Every 2,500 steps 10 greedy
episodes are played on a separate environment; the weights of the best of these
evaluations are kept (as a validation set picks a checkpoint), because DQN's greedy
policy keeps swinging between ~100 and 500 long after it first reaches 500. Both the
final and the kept policy are then measured over 100 fresh greedy episodes
(target: mean >= 475 for >= 3 of 5 seeds).

Run: python examples/rl_dqn_cartpole.py [--seeds 5] [--steps 50000] [--out examples_output]

Measured (2-core AMD EPYC, AVX2; seeds 0-4, Gymnasium 1.4.0, NumPy 2.4):
kept policy (best periodic evaluation), 100 fresh episodes: mean 499.0, min 495.2,
5/5 seeds >= 475 (per seed 500.0 500.0 500.0 495.2 500.0). Final policy after 50,000
steps: mean 443.1, min 252.0, 3/5 seeds >= 475 (per seed 500.0 500.0 252.0 463.7
500.0). First 10-episode greedy evaluation >= 475 at steps 25,000 / 30,000 / 42,500 /
32,500 / 32,500. About 47 s per seed (training and evaluations), 286 s in all. (An
earlier run with other exploration random streams: kept 5/5 at 500.0, final 3/5, mean
342.4, min 101.2: which seeds collapse at the end is luck, keeping the best is not.)
"""
import argparse
import os
import time
from pathlib import Path

import numpy as np

import shendu.rl as rl

TARGET = 475.0
ZOO = dict(hidden=(256, 256), lr=2.3e-3, batch_size=64, buffer_size=100_000,
           learning_starts=1000, gamma=0.99, target_update_interval=10, train_freq=256,
           gradient_steps=128, exploration_fraction=0.16, epsilon_start=1.0,
           epsilon_end=0.04, loss="huber", max_grad_norm=10.0)


def run_seed(seed, args, settings):
    env, eval_env = rl.make("CartPole-v1"), rl.make("CartPole-v1")
    agent = rl.DQN(env, seed=seed, **settings)
    t0 = time.perf_counter()
    log = agent.train(args.steps, report_every=args.report_every, eval_env=eval_env,
                      eval_every=args.eval_every, eval_episodes=args.eval_episodes,
                      eval_seed=1_000 * (seed + 1), keep_best=True)
    seconds = time.perf_counter() - t0
    test_seed = 10_000 + seed  # episodes none of the evaluations above saw
    final = agent.evaluate(eval_env, args.final_episodes, seed=test_seed)
    best_step = agent.restore_best()
    kept = agent.evaluate(eval_env, args.final_episodes, seed=test_seed)
    evals = [(int(s), r) for s, r in zip(log.history["eval_step"], log.history["eval_return"])]
    first = next((s for s, r in evals if r >= TARGET), None)
    return {"seed": seed, "final": float(final.mean()), "kept": float(kept.mean()),
            "kept_min_episode": float(kept.min()), "best_step": best_step,
            "first_reached": first, "evals": evals, "seconds": seconds,
            "returns": log.history["return"], "steps": log.history["step"], "agent": agent}


def summary(values):
    values = np.asarray(values, dtype=float)
    return {"values": values.tolist(), "mean": float(values.mean()), "min": float(values.min()),
            "reached": int((values >= TARGET).sum())}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="examples_output", help="folder for the PNGs")
    parser.add_argument("--seeds", type=int, default=5, help="number of seeds (0, 1, ...)")
    parser.add_argument("--steps", type=int, default=50_000, help="environment steps per seed")
    parser.add_argument("--eval-every", type=int, default=2_500)
    parser.add_argument("--eval-episodes", type=int, default=10)
    parser.add_argument("--final-episodes", type=int, default=100)
    parser.add_argument("--report-every", type=int, default=100, help="episodes per line")
    parser.add_argument("--quick", action="store_true",
                        default=os.environ.get("SHENDU_EXAMPLE_QUICK") == "1",
                        help="1 seed, 6,000 steps, a 64-64 network (for tests)")
    args = parser.parse_args(argv)
    settings = dict(ZOO)
    if args.quick:
        args.seeds, args.steps, args.eval_every = 1, 6_000, 1_500
        args.eval_episodes, args.final_episodes, args.report_every = 3, 10, 0
        settings.update(hidden=(64, 64), train_freq=64, gradient_steps=32,
                        exploration_fraction=0.3, learning_starts=500)
    rl.require_gymnasium("examples/rl_dqn_cartpole.py")
    from shendu.viz import plot_returns

    t_start = time.perf_counter()
    runs = []
    for seed in range(args.seeds):
        print(f"--- seed {seed}", flush=True)
        r = run_seed(seed, args, settings)
        runs.append(r)
        print(f"seed {seed}: final policy {r['final']:.1f}, kept (step {r['best_step']:,}) "
              f"{r['kept']:.1f} over {args.final_episodes} episodes; first greedy evaluation "
              f">= {TARGET:g} at step {r['first_reached']}; {r['seconds']:.0f}s", flush=True)

    final, kept = summary([r["final"] for r in runs]), summary([r["kept"] for r in runs])
    print(f"\nCartPole-v1, {args.steps:,} steps per seed, greedy mean return over "
          f"{args.final_episodes} episodes (target >= {TARGET:g}):")
    for name, s in (("final policy", final), ("kept policy", kept)):
        print(f"  {name:<13} mean {s['mean']:6.1f}  min {s['min']:6.1f}  "
              f"{s['reached']}/{len(runs)} seeds >= {TARGET:g}   "
              f"({' '.join(f'{v:.1f}' for v in s['values'])})")
    print("  first evaluation >= 475 at steps:", [r["first_reached"] for r in runs])

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    png = out / "rl_dqn_cartpole_returns.png"
    plot_returns({f"seed {r['seed']}": r["returns"] for r in runs}, window=20, path=png,
                 x={f"seed {r['seed']}": r["steps"] for r in runs}, xlabel="environment steps",
                 target=TARGET, title="DQN on CartPole-v1: training episode returns")
    print(f"wrote {png}; total {time.perf_counter() - t_start:.0f}s")
    return {"final": final, "kept": kept, "runs": [{k: v for k, v in r.items() if k != "agent"}
                                                   for r in runs],
            "agent": runs[-1]["agent"], "pngs": [str(png)]}


if __name__ == "__main__":
    main()
