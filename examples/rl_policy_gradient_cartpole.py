"""Policy-based reinforcement learning on CartPole: REINFORCE with a baseline, then
actor-critic (A2C and PPO) measured against it.

Seed 000, chapter 8 "Policy based rl", and seed 004 ("Reinforcement Learning Approach:
Policy-based RL - search directly for the optimal policy"): the agent is a network
``pi(a|s)`` that outputs the probabilities of pushing the cart left or right, and it
learns by making the actions that led to high returns more likely,
``grad J = E[grad log pi(a_t|s_t) * A_t]``. The seed's difficulty, "we only get the
reward after a whole sequence of actions and cannot tell which action was wrong", is
exactly the variance this estimate fights:

1. **REINFORCE with a learned baseline**: play a whole episode, weight each step's
   ``grad log pi`` by its discounted return minus the value network's ``V(s_t)``
   (standardised), one Adam step per episode. Policy Linear(4, 128)-ReLU-Linear(128, 2),
   value network the same with one output, lr 1e-3, gamma 0.99.
2. **A2C**: 8 CartPoles stepped together, an update every 8 steps with n-step returns
   bootstrapped from the critic (actor and critic 2x64 tanh, lr 1e-3, gamma 0.99).
3. **PPO**: 8 CartPoles, 32 steps each per rollout, 20 epochs of the clipped surrogate
   on the 256 samples, GAE lambda 0.8, gamma 0.98, lr 1e-3 (the RL-Baselines3-Zoo
   settings for CartPole-v1).

The target (issue 13): the mean return of the last 100 training episodes >= 475 (the
maximum is 500) within 2,000 episodes, for at least 3 of 5 seeds. Each run stops when it
gets there; "episodes needed" is the first episode at which the 100-episode mean is
>= 475, and "steps needed" the environment steps up to it (all 8 copies together for
A2C/PPO). The greedy policy (the most likely action) is then evaluated for 100 episodes.

Run: python examples/rl_policy_gradient_cartpole.py [--seeds 0 1 2 3 4] [--out DIR] [--quick]
(needs Gymnasium: pip install "shendu[rl]")

Measured (2-core AMD EPYC, AVX2; one thread, Gymnasium 1.4.0, NumPy 2.4.6), seeds 0-4:

               reached 475     episodes needed (per seed)     mean    env steps   greedy
  REINFORCE    5/5             830  737 1231 1155  869         964     258,102    492.9
  A2C          4/5             876  628  490  872    -         716     130,217    446.3
  PPO          5/5             328  273  310  329  290         306      67,070    404.1

(episodes and steps: the mean over the seeds that reached the target; "greedy": the mean
over seeds of 100 greedy episodes right when the target was reached.) A2C's seed 4
collapsed after a peak and ended at a best 100-episode mean of 274.5 in 2,000 episodes.
The greedy policy usually scores 500, but not always: PPO's seed 4 samples its way to a
477 mean while its greedy policy lasts 20.6 steps (the stochastic policy is still close
to 50/50 in the states that matter, and always taking the likelier action drifts the
cart one way), A2C's seed 4 231.6, REINFORCE's seed 2 469.8. Time per seed (one
thread): REINFORCE 18-49 s, A2C 5-25 s, PPO 14-18 s; 356 s for all 15 runs.
"""
import argparse
import os
import time
from pathlib import Path

import numpy as np

import shendu.rl as rl
from shendu.rl import evaluate

TARGET = 475.0
EPISODE_BUDGET = 2000

SETTINGS = {
    "REINFORCE": dict(hidden=(128,), activation="relu", lr=1e-3, gamma=0.99, baseline=True,
                      normalize_advantages=True),
    "A2C": dict(n_envs=8, n_steps=8, hidden=(64, 64), lr=1e-3, gamma=0.99, gae_lambda=1.0),
    "PPO": dict(n_envs=8, n_steps=32, batch_size=256, n_epochs=20, gae_lambda=0.8,
                gamma=0.98, lr=1e-3, hidden=(64, 64)),
}
QUICK = {"REINFORCE": dict(episodes=20), "A2C": dict(total_steps=1024),
         "PPO": dict(total_steps=512)}


def first_reaching(log, target=TARGET):
    """(episodes, env steps) at the first episode whose 100-episode mean is >= target,
    or (None, None)."""
    rm = log.running_mean()
    hits = np.flatnonzero((rm >= target) & (np.arange(rm.size) >= log.window - 1))
    if hits.size == 0:
        return None, None
    i = int(hits[0])
    return i + 1, int(log.history["step"][i])


def run(algo, seed, quick=False, eval_episodes=100):
    import gymnasium
    env = gymnasium.make("CartPole-v1")
    cls = getattr(rl, algo)
    agent = cls(env, seed=seed, **SETTINGS[algo])
    t0 = time.perf_counter()
    if quick:
        log = agent.train(report_every=0, **QUICK[algo])
    elif algo == "REINFORCE":
        log = agent.train(episodes=EPISODE_BUDGET, report_every=250, target_return=TARGET)
    else:
        log = agent.train(episodes=EPISODE_BUDGET, total_steps=EPISODE_BUDGET * 500,
                          report_every=250, target_return=TARGET)
    seconds = time.perf_counter() - t0
    episodes, steps = first_reaching(log)
    greedy = evaluate(agent.act, gymnasium.make("CartPole-v1"), episodes=eval_episodes,
                      seed=1000 + seed)
    best = float(log.running_mean().max()) if log.episodes else float("nan")
    reached = (f"reached {TARGET:.0f} at episode {episodes} ({steps:,} steps)"
               if episodes else f"did not reach {TARGET:.0f} in {log.episodes} episodes")
    print(f"{algo:9s} seed {seed}: best 100-episode mean {best:6.1f} | {reached} | "
          f"greedy {greedy.mean():6.1f} | {seconds:5.1f}s", flush=True)
    return dict(algo=algo, seed=seed, log=log, best_mean=best, episodes=episodes, steps=steps,
                greedy=float(greedy.mean()), seconds=seconds, agent=agent)


def summarise(runs):
    """Per algorithm: mean/min of the best 100-episode mean, seeds reaching the target,
    and the mean episodes/steps those seeds needed."""
    table = {}
    for algo in dict.fromkeys(r["algo"] for r in runs):
        rs = [r for r in runs if r["algo"] == algo]
        best = np.array([r["best_mean"] for r in rs])
        hit = [r for r in rs if r["episodes"] is not None]
        table[algo] = dict(
            seeds=len(rs), mean=float(best.mean()), min=float(best.min()), reached=len(hit),
            episodes=[r["episodes"] for r in rs], steps=[r["steps"] for r in rs],
            mean_episodes=float(np.mean([r["episodes"] for r in hit])) if hit else None,
            mean_steps=float(np.mean([r["steps"] for r in hit])) if hit else None,
            greedy=float(np.mean([r["greedy"] for r in rs])))
    return table


def print_table(table):
    print(f"\n{'':10s} best 100-ep mean (mean / min)  reached {TARGET:.0f}   episodes needed"
          "          env steps needed (mean)   greedy")
    for algo, t in table.items():
        eps = " ".join("-" if e is None else str(e) for e in t["episodes"])
        mean_eps = "-" if t["mean_episodes"] is None else f"{t['mean_episodes']:.0f}"
        mean_steps = "-" if t["mean_steps"] is None else f"{t['mean_steps']:,.0f}"
        print(f"{algo:10s} {t['mean']:7.1f} / {t['min']:7.1f}           "
              f"{t['reached']}/{t['seeds']}    {eps} (mean {mean_eps})  {mean_steps:>12s}"
              f"   {t['greedy']:6.1f}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="examples_output", help="folder for the PNGs")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--algos", nargs="+", default=list(SETTINGS), choices=list(SETTINGS))
    parser.add_argument("--quick", action="store_true",
                        default=os.environ.get("SHENDU_EXAMPLE_QUICK") == "1",
                        help="a few episodes of each algorithm, one seed (for tests)")
    args = parser.parse_args(argv)
    rl.require_gymnasium("examples/rl_policy_gradient_cartpole.py")
    from shendu.viz import plot_returns

    seeds = args.seeds[:1] if args.quick else args.seeds
    t_start = time.perf_counter()
    runs = [run(algo, seed, args.quick, eval_episodes=3 if args.quick else 100)
            for algo in args.algos for seed in seeds]
    table = summarise(runs)
    print_table(table)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    first = {r["algo"]: r for r in runs if r["seed"] == seeds[0]}
    window = 10 if args.quick else 100
    png_episodes = out / "rl_policy_gradient_episodes.png"
    plot_returns({a: r["log"] for a, r in first.items()}, window=window, target=TARGET,
                 path=png_episodes, title=f"CartPole-v1, seed {seeds[0]}: return per episode")
    png_steps = out / "rl_policy_gradient_steps.png"
    plot_returns({a: r["log"] for a, r in first.items()}, window=window, target=TARGET,
                 x={a: r["log"].history["step"] for a, r in first.items()},
                 xlabel="environment steps", path=png_steps,
                 title=f"CartPole-v1, seed {seeds[0]}: return against environment steps")
    png_seeds = out / "rl_policy_gradient_reinforce_seeds.png"
    plot_returns({f"seed {r['seed']}": r["log"] for r in runs if r["algo"] == args.algos[0]},
                 window=window, target=TARGET, path=png_seeds,
                 title=f"{args.algos[0]} on CartPole-v1, every seed")
    print(f"Saved {png_episodes}, {png_steps}, {png_seeds}  "
          f"(wall time {time.perf_counter() - t_start:.1f} s)")
    return dict(table=table, runs=runs, pngs=[png_episodes, png_steps, png_seeds])


if __name__ == "__main__":
    main()
