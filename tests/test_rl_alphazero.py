"""AlphaZero-style self-play (shendu.rl.alphazero): the policy/value network's shapes, the
self-play targets, training steps that lower the loss, the replay, acting, playing and
the save/load round trip. Tiny networks and searches keep it fast; the lesson
(examples/rl_alphazero.py) trains to the targets.
"""
import numpy as np
import pytest

import shendu
import shendu.rl as rl
from shendu.rl.alphazero import AlphaZero, PolicyValueNet, SelfPlayBuffer
from shendu.rl.envs.tictactoe import TicTacToe
from shendu.rl.mcts import RandomPlayer


def small_agent(env_id="TicTacToe-v0", **kw):
    settings = dict(n_simulations=10, games_per_iteration=4, train_steps=4, batch_size=32,
                    trunk="mlp", hidden=32, seed=0)
    settings.update(kw)
    return AlphaZero(rl.make(env_id), **settings)


@pytest.mark.parametrize("trunk", ["conv", "mlp"])
@pytest.mark.parametrize("shape,n_actions", [((2, 3, 3), 9), ((2, 6, 7), 7)])
def test_policy_value_net_shapes(trunk, shape, n_actions):
    net = PolicyValueNet(shape, n_actions, trunk=trunk, channels=4, hidden=8)
    x = shendu.tensor(np.random.default_rng(0).integers(0, 2, (5, *shape)).astype(np.float32))
    logits, value = net(x)
    assert tuple(logits.shape) == (5, n_actions) and tuple(value.shape) == (5,)
    v = value.detach().numpy()
    assert np.all(np.abs(v) <= 1)  # tanh
    with pytest.raises(ValueError, match=r"expected input \(B, 2, "):
        net(shendu.tensor(np.zeros((5, 2, 4, 4), np.float32)))


def test_policy_value_net_bad_arguments():
    with pytest.raises(ValueError, match="trunk must be 'conv' or 'mlp'"):
        PolicyValueNet((2, 3, 3), 9, trunk="resnet")
    with pytest.raises(ValueError, match=r"in_shape must be \(planes, rows, cols\)"):
        PolicyValueNet((9,), 9)
    with pytest.raises(ValueError, match="channels must be a positive integer"):
        PolicyValueNet((2, 3, 3), 9, channels=0)


def test_evaluate_gives_priors_and_values():
    agent = small_agent()
    states = [TicTacToe(), TicTacToe.from_board([[1, 0, 0], [0, 2, 0], [0, 0, 0]])]
    priors, values = agent.evaluate(states)
    assert priors.shape == (2, 9) and values.shape == (2,)
    assert np.allclose(priors.sum(axis=1), 1) and (priors > 0).all()


def test_self_play_targets():
    agent = small_agent()
    (obs, pi, z), winners, lengths = agent.self_play(3)
    assert obs.shape == (sum(lengths), 2, 3, 3) and pi.shape == (sum(lengths), 9)
    assert np.allclose(pi.sum(axis=1), 1) and set(np.unique(z)) <= {-1.0, 0.0, 1.0}
    start = 0
    for w, n in zip(winners, lengths):
        game_z = z[start:start + n]
        if w is None:
            assert (game_z == 0).all()
        else:  # the result alternates in sign with the player to move; the last mover won
            assert game_z[-1] == 1.0 and np.all(game_z[:-1] * game_z[1:] == -1)
            assert (game_z[0] == 1.0) == (w == 0)
        # the policy target never puts mass on an occupied cell
        occupied = obs[start:start + n].sum(axis=1).reshape(n, 9) > 0
        assert (pi[start:start + n][occupied] == 0).all()
        start += n


def test_training_steps_lower_the_loss():
    agent = small_agent(lr=1e-2)
    (obs, pi, z), _, _ = agent.self_play(4)
    before = [t.item() for t in agent.losses(obs, pi, z)]
    for _ in range(30):
        agent.train_step(obs, pi, z)
    after = [t.item() for t in agent.losses(obs, pi, z)]
    assert after[0] < before[0] - 0.1
    assert after[2] < before[2]  # the value head fits the outcomes
    assert before[0] == pytest.approx(before[1] + before[2], rel=1e-5)


def test_train_iteration_logs_and_fills_the_replay(capsys):
    agent = small_agent()
    log = agent.train(iterations=2, report_every=1)
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 2 and "iteration 2 | loss" in out[1]
    assert log.episodes == 8 and len(log.history["loss"]) == 2
    assert all(np.isfinite(log.history["loss"]))
    # every position with its 8 symmetric copies
    assert len(agent.replay) == 8 * log.steps == log.history["positions"][-1]
    assert agent.iterations == 2
    agent.train(1, report_every=0)  # continues the same log
    assert log.episodes == 12 and agent.log is log
    with pytest.raises(ValueError, match="iterations must be a positive integer"):
        agent.train(0)


def test_replay_keeps_the_most_recent():
    buf = SelfPlayBuffer(5, (2, 1, 1), 3)
    for k in range(3):
        buf.add(np.full((2, 2, 1, 1), k), np.full((2, 3), k), np.full(2, float(k)))
    assert len(buf) == 5 and sorted(buf.z.tolist()) == [0.0, 1.0, 1.0, 2.0, 2.0]
    obs, pi, z = buf.sample(7, np.random.default_rng(0))
    assert obs.shape == (7, 2, 1, 1) and pi.shape == (7, 3) and z.shape == (7,)


def test_act_on_states_and_observations():
    agent = small_agent(n_simulations=60)
    win = TicTacToe.from_board([[1, 1, 0], [2, 2, 0], [0, 0, 0]])
    assert agent.act(win) == 2
    assert agent.act(win.observation()) == 2
    moves = agent.act_many([TicTacToe(), win])
    assert len(moves) == 2 and moves[1] == 2
    r = agent.play(RandomPlayer(seed=0), games=4)
    assert r["wins"] + r["draws"] + r["losses"] == 4
    assert r["first"]["wins"] + r["first"]["draws"] + r["first"]["losses"] == 2


def test_connect_four_conv_agent_trains():
    agent = small_agent("ConnectFour-v0", trunk="conv", channels=4, hidden=8,
                        n_simulations=4, games_per_iteration=2, train_steps=2)
    log = agent.train(1, report_every=0)
    assert len(agent.replay) == 2 * log.steps  # mirrored copies
    assert agent.act(agent.env.new_state()) in range(7)


def test_save_load_round_trip(tmp_path):
    agent = small_agent(eval_simulations=20)
    agent.train(1, report_every=0)
    path = tmp_path / "az.safetensors"
    agent.save(path)
    back = AlphaZero.load(path)
    assert back.config() == agent.config() and back.iterations == 1
    assert isinstance(back.env, TicTacToe)
    states = [TicTacToe(), TicTacToe.from_board([[1, 0, 0], [0, 2, 0], [0, 0, 0]])]
    for a, b in zip(agent.evaluate(states), back.evaluate(states)):
        assert np.allclose(a, b)
    # the optimizer's state came back too: one more identical step keeps them equal
    batch = agent.replay.sample(16, np.random.default_rng(1))
    assert agent.train_step(*batch) == pytest.approx(back.train_step(*batch))
    assert np.allclose(agent.evaluate(states)[1], back.evaluate(states)[1])


def test_bad_arguments():
    with pytest.raises(TypeError, match="two-player BoardGame"):
        AlphaZero(rl.make("GridWorld-v0"))
    with pytest.raises(ValueError, match="n_simulations must be a positive integer"):
        AlphaZero(TicTacToe(), n_simulations=0)
    with pytest.raises(ValueError, match="eval_simulations"):
        AlphaZero(TicTacToe(), eval_simulations=-1)
    with pytest.raises(ValueError, match="lr must be positive"):
        AlphaZero(TicTacToe(), lr=0)
