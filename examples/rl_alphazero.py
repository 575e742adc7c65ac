"""AlphaZero-style self-play: Monte-Carlo tree search guided by a policy/value network
that learns from its own games, on tic-tac-toe and Connect-Four.

Seed 004 ("Reinforcement Learning"), model-based RL: "Model-Based Deep RL in AlphaGo:
Monte-Carlo tree search (MCTS) simulates future trajectories, builds a large lookahead
search tree", with "convolutional networks" that read the board (and, the same lecture
notes, only convolutions, no max pooling: a pattern means the same wherever it sits on
the board, and subsampling a board destroys it). Here the model is the game's rules;
the network is learned from nothing but self-play (AlphaGo Zero / AlphaZero):

1. self-play: every move comes from ``MCTS`` with the network as evaluator (priors from
   the policy head, the value head instead of random rollouts), with Dirichlet noise at
   the root and the first moves sampled from the visit counts;
2. training: cross-entropy between the policy head and the search's visit distribution,
   plus the squared error between the value head and the game's result, on the recent
   positions and their symmetric copies (tic-tac-toe's 8, Connect-Four's mirror).

Tic-tac-toe (MLP trunk, 100 simulations per self-play move, 40 iterations of 32 games,
400 simulations per move when playing): 100 games against a perfect minimax player
(negamax with a memo, random among its best moves) must bring no loss, and an
exhaustive check walks every position reachable against a perfect opponent (either
seat) and counts the agent's moves that throw away value. Against a uniformly random
player, alternating who starts, the figure to reach is >= 95% wins; note the ceiling:
the best any never-losing player can do against random play is 99.5% wins moving
first, 91.6% moving second, 95.6% alternating (computed below by expectimax over the
minimax-optimal moves), and the minimax player itself wins 96.7% / 80.5% / 88.6%. Drawn
lines are all worth 0 to self-play, so a self-taught player is not drawn to the lines
where a random opponent errs most.

Connect-Four (conv trunk: two 3x3 convolutions of 32 channels, AlphaGo Zero's policy and
value heads; 50 simulations per self-play move, 80 iterations of 32 games): the
trained agent plays 100 games against pure MCTS (UCT with random rollouts) with the
same number of simulations per move (100), alternating who starts; the target is >= 70%
wins.

Run: python examples/rl_alphazero.py [--seeds 5] [--c4-seeds 5] [--out examples_output]
     python examples/rl_alphazero.py --quick          (a small run, seconds)

Measured (2-core AMD EPYC, AVX2, one thread): tic-tac-toe seeds 0-4: 0 losses in 100
games against minimax (5/5), 0 mistakes in 868 positions (5/5); against random 92, 95, 95,
97, 91% wins (mean 94.0%, 3/5 >= 95%, ceiling 95.6%). Connect-Four seeds 0-4 against pure
MCTS (100 simulations each): 87, 71, 86, 71, 81% wins (mean 79.2%, 5/5 >= 70%); with 40
iterations only 2/5 (mean 66%). About 11 minutes a Connect-Four seed.
"""
import argparse
import os
import time
from pathlib import Path

import numpy as np

import shendu.rl as rl
from shendu.rl.alphazero import AlphaZero
from shendu.rl.mcts import MCTS, MinimaxPlayer, RandomPlayer

TTT_SETTINGS = dict(n_simulations=100, eval_simulations=400, games_per_iteration=32,
                    train_steps=128, batch_size=64, lr=2e-3, c_puct=3.0,
                    temperature_moves=4, trunk="mlp", hidden=64)
C4_SETTINGS = dict(n_simulations=50, eval_simulations=100, games_per_iteration=32,
                   train_steps=128, batch_size=64, lr=2e-3, c_puct=3.0, trunk="conv",
                   channels=32, blocks=2, hidden=64)
QUICK_TTT = dict(TTT_SETTINGS, n_simulations=30, eval_simulations=100,
                 games_per_iteration=16, train_steps=32)
QUICK_C4 = dict(C4_SETTINGS, n_simulations=16, eval_simulations=16, games_per_iteration=8,
                train_steps=16, channels=8)


# ------------------------------------------------------------------ tic-tac-toe
def best_against_random(state, me, perfect, memo=None):
    """The highest win probability against a uniformly random opponent that a player who
    never loses can reach from ``state`` (``me``: its seat): an expectimax over the
    minimax-optimal moves (the opponent's moves are averaged)."""
    memo = {} if memo is None else memo
    key = state.key()
    if key in memo:
        return memo[key]
    if state.done:
        p = 1.0 if state.winner == me else 0.0
    elif state.to_play == me:
        values = perfect.action_values(state)
        best = np.nanmax(values)
        p = 0.0
        for a in np.flatnonzero(values == best):
            child = state.clone()
            child.play(int(a))
            p = max(p, best_against_random(child, me, perfect, memo))
    else:
        moves = state.legal_actions()
        p = 0.0
        for a in moves:
            child = state.clone()
            child.play(a)
            p += best_against_random(child, me, perfect, memo) / len(moves)
    memo[key] = p
    return p


def exhaustive_mistakes(agent, perfect):
    """Walk every position the agent can meet against a perfect opponent (either seat:
    the opponent's every optimal move is followed); return (mistakes, positions), a
    mistake being a move whose minimax value is below the position's best. Zero mistakes
    means the agent never loses to any perfect player. The agent moves for a whole
    level of the walk at once (one batched search)."""
    frontier, seen, mistakes = [agent.env.new_state()], set(), 0
    while frontier:
        level = []
        for s in frontier:
            if not s.done and s.key() not in seen:
                seen.add(s.key())
                level.append(s)
        if not level:
            break
        moves = agent.act_many(level)
        frontier = []
        for s, a in zip(level, moves):
            values = perfect.action_values(s)
            best = np.nanmax(values)
            mistakes += int(values[a] < best)
            for b in set(np.flatnonzero(values == best).tolist()) | {a}:
                child = s.clone()
                child.play(int(b))
                frontier.append(child)
    return mistakes, len(seen)


def run_tictactoe(seed, settings, iterations, games, report_every):
    env = rl.make("TicTacToe-v0")
    agent = AlphaZero(env, seed=seed, **settings)
    t0 = time.perf_counter()
    log = agent.train(iterations, report_every=report_every)
    train_s = time.perf_counter() - t0
    perfect = MinimaxPlayer(seed=seed)
    vs_minimax = agent.play(perfect, games)
    vs_random = agent.play(RandomPlayer(seed=seed), games)
    mistakes, positions = exhaustive_mistakes(agent, perfect)
    return dict(seed=seed, loss=list(log.history["loss"]), vs_minimax=vs_minimax,
                vs_random=vs_random, mistakes=mistakes, positions=positions,
                train_seconds=train_s)


# ------------------------------------------------------------------ connect four
def run_connect_four(seed, settings, iterations, games, report_every):
    env = rl.make("ConnectFour-v0")
    agent = AlphaZero(env, seed=seed, **settings)
    t0 = time.perf_counter()
    log = agent.train(iterations, report_every=report_every)
    train_s = time.perf_counter() - t0
    sims = agent.eval_simulations or agent.n_simulations
    vs_mcts = agent.play(MCTS(n_simulations=sims, seed=1000 + seed), games)
    return dict(seed=seed, loss=list(log.history["loss"]), vs_mcts=vs_mcts,
                simulations=sims, train_seconds=train_s, agent=agent)


def visit_distributions(agent, sims, seed=0):
    """The root visit shares of the trained agent's search and of pure MCTS, with the
    same simulations, at a position where X must block: O holds columns 1-3 of the bottom
    row and X column 0, so O wins at column 4 unless X plays there; the search's visits
    show which moves each considers."""
    state = rl.make("ConnectFour-v0").new_state()
    for a in (6, 1, 6, 2, 0, 3):  # X: 6, 6, 0; O: 1, 2, 3 on the bottom row
        state.play(a)
    az = agent._mcts(noise=False)
    az.n_simulations = sims
    az.search(state)
    pure = MCTS(n_simulations=sims, seed=seed)
    pure.search(state)
    return state, az.root.N / az.root.N.sum(), pure.root.N / pure.root.N.sum()


# ------------------------------------------------------------------ reporting
def summary(values):
    values = np.asarray(values, dtype=float)
    return dict(values=values.tolist(), mean=float(values.mean()), min=float(values.min()))


def plot(ttt, c4, visits, out):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    for r in ttt:
        axes[0].plot(np.arange(1, len(r["loss"]) + 1), r["loss"], label=f"seed {r['seed']}")
    axes[0].set(title="tic-tac-toe: training loss (policy CE + value MSE)",
                xlabel="iteration", ylabel="loss")
    axes[0].legend(fontsize=8)
    for r in c4:
        wr = r["vs_mcts"]["wins"] / sum(r["vs_mcts"][k] for k in ("wins", "draws", "losses"))
        axes[1].plot(np.arange(1, len(r["loss"]) + 1), r["loss"],
                     label=f"seed {r['seed']}: {wr:.0%} wins vs MCTS")
    axes[1].set(title="Connect-Four: training loss", xlabel="iteration", ylabel="loss")
    axes[1].legend(fontsize=8)
    if visits is not None:
        state, az, pure = visits
        x = np.arange(state.n_actions)
        axes[2].bar(x - 0.2, az, width=0.4, label="AlphaZero (network priors and values)")
        axes[2].bar(x + 0.2, pure, width=0.4, label="pure MCTS (random rollouts)")
        axes[2].set(title="root visit shares: X to play must block column 4",
                    xlabel="column", ylabel="share of the simulations", xticks=x)
        axes[2].legend(fontsize=8)
        axes[2].text(0.02, 0.65, state.to_text(), family="monospace", fontsize=8,
                     transform=axes[2].transAxes, va="top")
    fig.tight_layout()
    path = Path(out) / "rl_alphazero.png"
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return str(path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small run (seconds)")
    parser.add_argument("--seeds", type=int, default=5, help="tic-tac-toe seeds")
    parser.add_argument("--c4-seeds", type=int, default=5, help="Connect-Four seeds")
    parser.add_argument("--iterations", type=int, default=40, help="tic-tac-toe iterations")
    parser.add_argument("--c4-iterations", type=int, default=80)
    parser.add_argument("--games", type=int, default=100, help="evaluation games")
    parser.add_argument("--out", default="examples_output")
    args = parser.parse_args(argv)
    if args.quick:
        seeds, c4_seeds, iters, c4_iters, games = 1, 1, 3, 2, 10
        ttt_settings, c4_settings = QUICK_TTT, QUICK_C4
    else:
        seeds, c4_seeds, iters, c4_iters, games = (args.seeds, args.c4_seeds, args.iterations,
                                                   args.c4_iterations, args.games)
        ttt_settings, c4_settings = TTT_SETTINGS, C4_SETTINGS
    os.makedirs(args.out, exist_ok=True)
    report_every = 0 if args.quick else 10
    start = time.perf_counter()

    perfect = MinimaxPlayer()
    game = rl.make("TicTacToe-v0").new_state()
    ceiling = [best_against_random(game, seat, perfect) for seat in (0, 1)]
    print(f"ceiling against random play for a never-losing player: {ceiling[0]:.1%} first, "
          f"{ceiling[1]:.1%} second, {np.mean(ceiling):.1%} alternating")

    ttt = []
    for seed in range(seeds):
        r = run_tictactoe(seed, ttt_settings, iters, games, report_every)
        ttt.append(r)
        m, rnd = r["vs_minimax"], r["vs_random"]
        print(f"tic-tac-toe seed {seed}: vs minimax {m['wins']}W {m['draws']}D "
              f"{m['losses']}L | vs random {rnd['wins'] / games:.0%} wins (first "
              f"{rnd['first']['wins']}/{games // 2 + games % 2}, second "
              f"{rnd['second']['wins']}/{games // 2}), {rnd['losses']} losses | mistakes "
              f"{r['mistakes']} of {r['positions']} positions | train {r['train_seconds']:.0f}s",
              flush=True)
    c4 = []
    for seed in range(c4_seeds):
        r = run_connect_four(seed, c4_settings, c4_iters, games, report_every)
        c4.append(r)
        v = r["vs_mcts"]
        print(f"Connect-Four seed {seed}: vs pure MCTS ({r['simulations']} simulations each) "
              f"{v['wins']}W {v['draws']}D {v['losses']}L (first {v['first']['wins']}, "
              f"second {v['second']['wins']}) | train {r['train_seconds']:.0f}s", flush=True)
    visits = visit_distributions(c4[0]["agent"], c4[0]["simulations"]) if c4 else None
    png = plot(ttt, c4, visits, args.out)

    n = games
    results = {
        "ttt_no_loss": summary([r["vs_minimax"]["losses"] == 0 for r in ttt]),
        "ttt_minimax_losses": summary([r["vs_minimax"]["losses"] for r in ttt]),
        "ttt_random_wins": summary([r["vs_random"]["wins"] / n for r in ttt]),
        "ttt_random_wins_first": summary([r["vs_random"]["first"]["wins"] / (n - n // 2)
                                          for r in ttt]),
        "ttt_random_wins_second": summary([r["vs_random"]["second"]["wins"] / (n // 2)
                                           for r in ttt]),
        "ttt_mistakes": summary([r["mistakes"] for r in ttt]),
        "c4_wins_vs_mcts": summary([r["vs_mcts"]["wins"] / n for r in c4]) if c4 else None,
    }
    reached = {
        "ttt_no_loss": sum(r["vs_minimax"]["losses"] == 0 for r in ttt),
        "ttt_random_95": sum(r["vs_random"]["wins"] >= 0.95 * n for r in ttt),
        "ttt_random_95_first": sum(r["vs_random"]["first"]["wins"] >= 0.95 * (n - n // 2)
                                   for r in ttt),
        "c4_70": sum(r["vs_mcts"]["wins"] >= 0.70 * n for r in c4),
    }
    print("summary:")
    for key, value in results.items():
        if value is not None:
            print(f"  {key}: mean {value['mean']:.3f}, min {value['min']:.3f}, "
                  f"per seed {[round(v, 3) for v in value['values']]}")
    print(f"  seeds reaching the targets: {reached} of {seeds} (tic-tac-toe) and "
          f"{c4_seeds} (Connect-Four); wall time {time.perf_counter() - start:.0f}s")
    for r in c4:
        r.pop("agent")
    return dict(ttt=ttt, c4=c4, results=results, reached=reached, ceiling=ceiling,
                visits=None if visits is None else (visits[1], visits[2]), pngs=[png])


if __name__ == "__main__":
    main()
