"""The FTW agent on Capture the Flag: self-play slots, internal rewards,
the team evaluator and a short real self-play run (Melting Pot, Reverb, TF)."""

import csv
import os

import numpy as np
import pytest
import tensorflow as tf

from agents.ftw.builder import FtwBuilder
from agents.ftw.learner import FtwLearner
from agents.ftw.team_evaluator import TeamGameEvaluator
from configs import ctf as ctf_config
from ftw.envs import ctf_events
from launch import local

E = ctf_events.NUM_EVENTS


def _tiny(**overrides):
  """configs/ctf.py with a small network, 2 arenas of 2v2, short episodes."""
  config = ctf_config.get_config().replace(
      num_envs=2, torso_hidden_size=16, hidden_size=16, num_dimensions=8,
      rpth_period=2, memory_size=8, word_size=4, head_hidden_size=16,
      conv_filters=((8, 8, 4),), residual_filters=(), batch_size=4,
      queue_size=16, sequence_length=5, reward_prediction_batch_size=4,
      eval_episodes=2, eval_every_seconds=3600.0, variable_update_period=2,
      environment_kwargs={"num_players": 4, "action_mode": "multi_discrete",
                          "episode_length": 12})
  return config.replace(**overrides)


@pytest.fixture(scope="module")
def builder():
  return FtwBuilder(_tiny())


def test_each_player_of_each_arena_is_a_row(builder):
  assert builder.team_game and builder.num_slots == 2 * 4
  env = builder.make_environment(seed=0)
  assert env.num_envs == 8
  actor = builder.make_actor(builder.make_network())
  timestep = env.reset()
  actor.observe_first(timestep)
  actions = actor.select_action(timestep.observation)
  assert actions.shape == (8, 3)  # One multi-discrete action per player.
  assert (actions >= 0).all() and (actions <= [4, 2, 2]).all()
  env.close()


def test_learner_trains_on_weighted_events(builder):
  weights = np.array(ctf_config.internal_reward_weights(), np.float32)
  network = builder.make_network()
  learner = FtwLearner(network, builder.config, iterator=iter(()))
  events = np.random.default_rng(0).integers(0, 3, (5, 4, E)).astype(
      np.float32)
  got = learner.training_rewards(tf.constant(events)).numpy()
  np.testing.assert_allclose(got, events @ weights, rtol=1e-6)
  # The embedding sees the same internal reward of the previous events.
  assert network.embed.internal_rewards is not None
  np.testing.assert_allclose(network.embed.internal_rewards.weights.numpy(),
                             weights)


def test_default_weights_name_every_event_and_reward_the_capture_most():
  weights = dict(zip(ctf_events.EVENT_NAMES,
                     ctf_config.internal_reward_weights()))
  assert len(weights) == E
  assert max(weights, key=weights.get) in ("flag_capture", "team_capture")
  assert weights["opponent_capture"] < 0


def test_a_vector_reward_needs_one_weight_per_event():
  with pytest.raises(ValueError, match="internal_reward_weights must have 13"):
    FtwBuilder(_tiny(internal_reward_weights=None))
  with pytest.raises(ValueError, match="internal_reward_weights must have 13"):
    FtwBuilder(_tiny(internal_reward_weights=(1.0, 2.0)))
  with pytest.raises(ValueError, match="internal_reward_weights must be None"):
    _tiny(internal_reward_weights=(1.0, float("nan")) + (0.0,) * 11)


def test_evaluator_rows_count_wins_from_each_side(builder):
  evaluator = TeamGameEvaluator(builder, variable_source=None)
  zero = np.zeros((4, E), np.float32)
  counts = zero.copy()
  counts[:, 0] = [1, 0, 3, 0]  # flag_pickup by players 0 and 2 (team 0).
  outcomes = [
      # Arena 0: the agent is team 0 and wins 2-1.
      (0, ctf_events.Outcome(np.array([2, 1]), np.zeros(4), counts)),
      # Arena 1: the agent is team 1 and loses 0-1.
      (1, ctf_events.Outcome(np.array([1, 0]), np.zeros(4), zero)),
  ]
  row = evaluator._row("random", outcomes)  # pylint: disable=protected-access
  assert row["opponent"] == "random"
  assert row["win_rate"] == 0.5 and row["loss_rate"] == 0.5
  assert row["draw_rate"] == 0.0
  assert row["team_score"] == 1.0 and row["opponent_score"] == 1.0
  assert row["episode_return"] == 0.0
  # Team 0 of arena 0 picked up 1 + 3 = 4 times: 2 per player; arena 1: 0.
  assert row["event_flag_pickup"] == pytest.approx((2 + 0) / 2)
  evaluator.env.close()


def test_self_play_run_logs_evaluations_and_checkpoints(tmp_path):
  logdir = str(tmp_path / "ctf")
  # Without the DNC memory: its ops are most of the learner's trace.
  summary = local.train(_tiny(max_learner_steps=4, memory_size=None), logdir)
  assert summary["learner_steps"] == 4
  assert os.path.exists(summary["checkpoint"] + ".index")
  with open(os.path.join(logdir, "evaluator", "logs.csv"), newline="") as f:
    rows = list(csv.DictReader(f))
  assert [r["opponent"] for r in rows] == ["random", "checkpoint"]
  for row in rows:
    assert int(row["episodes"]) == 2
    total = (float(row["win_rate"]) + float(row["draw_rate"])
             + float(row["loss_rate"]))
    assert total == pytest.approx(1.0)
    for name in ctf_events.EVENT_NAMES:
      assert float(row[f"event_{name}"]) >= 0
  with open(os.path.join(logdir, "learner", "logs.csv"), newline="") as f:
    learner_rows = list(csv.DictReader(f))
  assert len(learner_rows) == 4
  assert all(np.isfinite(float(r["total_loss"])) for r in learner_rows)


def test_a_stopped_evaluation_keeps_the_checkpoint_opponent(builder):
  """The checkpoint opponent is the agent of the last evaluation that ended:
  one stopped halfway returns no rows and does not replace it."""
  evaluator = TeamGameEvaluator(builder, variable_source=None)
  network = evaluator._network  # pylint: disable=protected-access
  opponent = evaluator._opponent_network  # pylint: disable=protected-access
  assert [r["opponent"] for r in evaluator.evaluate()] == ["random",
                                                           "checkpoint"]
  first = [v.numpy() for v in network.variables]
  assert first
  for v in network.variables:  # "Training" moves the agent on.
    v.assign_add(tf.ones_like(v))
  checks = []

  def stop_after_three_steps():
    checks.append(1)
    return len(checks) > 3

  assert evaluator.evaluate(stop_after_three_steps) == []
  assert len(checks) == 4  # It stopped at the first check that said so.
  rows = evaluator.evaluate()
  assert [r["opponent"] for r in rows] == ["random", "checkpoint"]
  # The finished evaluation played the agent of the first one, not the
  # moved-on weights the stopped evaluation had read.
  for value, v in zip(first, opponent.variables):
    np.testing.assert_array_equal(v.numpy(), value)
  evaluator.env.close()
