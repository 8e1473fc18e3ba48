"""A population actor on real Capture the Flag arenas with real Reverb:
each slot is played by its agent's network, and each agent's replay holds
only what its own network played (the learner's unroll of agent k's items
reproduces their behaviour logits with agent k's weights, not with the
other agent's)."""

import numpy as np
import pytest
import reverb
import tensorflow as tf

from agents.ftw.builder import FtwBuilder
from agents.ftw.population_actor import PopulationActor
from agents.ftw.population_actor import score_of_team_a
from configs import ctf as ctf_config
from ftw import replay
from ftw.utils import counting
from ftw.replay import layout

_EPISODE = 12


def _tiny():
  """1 vs 1 in 2 arenas (4 slots), tiny network, 12-frame episodes."""
  return ctf_config.get_config().replace(
      num_envs=2, torso_hidden_size=16, hidden_size=16, num_dimensions=8,
      rpth_period=2, memory_size=8, word_size=4, head_hidden_size=16,
      conv_filters=((8, 8, 4),), residual_filters=(), batch_size=2,
      queue_size=64, sequence_length=5, reward_prediction_batch_size=4,
      reward_prediction_cost=0.0, pixel_control_cost=0.0,
      environment_kwargs={"num_players": 2, "action_mode": "multi_discrete",
                          "episode_length": _EPISODE})


@pytest.fixture(scope="module")
def setup():
  builder = FtwBuilder(_tiny())
  networks = [builder.make_network(variable_period=True, seed=s)
              for s in (1, 2)]
  servers = [reverb.Server(builder.make_replay_tables(), port=None)
             for _ in networks]
  addresses = [f"localhost:{s.port}" for s in servers]
  env = builder.make_environment(seed=3)
  yield builder, networks, servers, addresses, env
  env.close()
  for server in servers:
    server.stop()


def _items(address):
  info = reverb.Client(address).server_info()
  return info[replay.SEQUENCE_TABLE].current_size


def _max_logit_error(builder, network, address):
  """Largest |unrolled - stored| logit over real steps of one batch."""
  learner = builder.make_learner(network, address)
  data = next(learner._iterator).data  # pylint: disable=protected-access
  data, core_state = layout.split_core_state(data)
  seq, noise = learner._unpack(data)  # pylint: disable=protected-access
  outputs, _ = network.unroll(seq.observation, core_state, noise=noise)
  real = seq.mask.numpy() > 0
  diff = np.abs(outputs.policy_logits.numpy() - seq.behaviour_logits.numpy())
  return diff[real].max()


def test_slots_play_and_write_for_their_own_agent(setup):
  builder, networks, servers, addresses, env = setup
  reports = []
  counter = counting.Counter(prefix="actor")
  queue = [[((0,), (1,)), ((1,), (1,))],   # Agent 0: 1 slot; agent 1: 3.
           [((1,), (0,)), ((0,), (0,))]]   # Agent 0: 3 slots; agent 1: 1.
  actor = PopulationActor(
      env, networks,
      make_adder=lambda k, n: builder.make_adder(reverb.Client(addresses[k]),
                                                 num_envs=n),
      next_matches=lambda n: queue.pop(0),
      report=lambda match, score, events: reports.append((match, score,
                                                          events)),
      counter=counter)
  first = actor.run_round()
  assert first["steps"] == _EPISODE * 4
  assert [r[0] for r in reports] == [((0,), (1,)), ((1,), (1,))]
  assert all(score in (0.0, 0.5, 1.0) for _, score, _ in reports)
  # Events per slot, team A's then team B's: [2 players, 13 events].
  assert all(np.shape(events) == (2, 13) for _, _, events in reports)
  assert counter.get_counts() == {"actor_steps": _EPISODE * 4,
                                  "actor_episodes": 2}
  assert sorted(len(v) for v in first["returns"].values()) == [1, 3]
  items_after_first = [_items(a) for a in addresses]
  # Items per slot-episode are equal, so agent 1 wrote 3x agent 0's.
  assert items_after_first[0] > 0
  assert items_after_first[1] == 3 * items_after_first[0]

  second = actor.run_round()  # Other slot counts: the actors take them.
  assert second["matches"] == [((1,), (0,)), ((0,), (0,))]
  assert [_items(a) for a in addresses] == [4 * items_after_first[0],
                                            4 * items_after_first[0]]
  assert actor.rounds == 2
  assert counter.get_counts()["actor_steps"] == 2 * _EPISODE * 4

  # Agent k's items were played by agent k's network: its unroll from the
  # stored state and noise gives the stored logits; the other agent's does not.
  for k in (0, 1):
    assert _max_logit_error(builder, networks[k], addresses[k]) < 1e-4
    assert _max_logit_error(builder, networks[1 - k], addresses[k]) > 1e-3


def test_stop_inside_a_round_reports_nothing(setup):
  builder, networks, _, _, env = setup
  reports = []
  actor = PopulationActor(
      env, networks, make_adder=lambda k, n: None,
      next_matches=lambda n: [((0,), (1,))] * n,
      report=lambda *args: reports.append(args))
  assert actor.run_round(should_stop=lambda: True) is None
  assert reports == [] and actor.rounds == 0


def test_bad_matches_are_rejected(setup):
  _, networks, _, _, env = setup
  actor = PopulationActor(env, networks, make_adder=lambda k, n: None,
                          next_matches=lambda n: [((0,), (5,))] * n,
                          report=lambda *args: None)
  with pytest.raises(ValueError, match="outside 0..1"):
    actor.run_round()
  short = PopulationActor(env, networks, make_adder=lambda k, n: None,
                          next_matches=lambda n: [((0,), (1,))],
                          report=lambda *args: None)
  with pytest.raises(ValueError, match="1 matches for 2 arenas"):
    short.run_round()


def test_score_of_team_a():
  assert score_of_team_a([2, 1]) == 1.0
  assert score_of_team_a([0, 0]) == 0.5
  assert score_of_team_a([0, 3]) == 0.0
