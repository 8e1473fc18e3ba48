"""FtwActor: batched acting, state resets at FIRST rows, greedy mode, updates;
the environment loop and the greedy evaluator that drive it."""

import dm_env
import numpy as np
import pytest
import tree

from agents.ftw.builder import FtwBuilder
from agents.ftw.config import FtwConfig
from agents.ftw.evaluator import Evaluator
from ftw import environment_loop
from ftw.utils import counting

_CONFIG = FtwConfig(
    environment="catch", environment_kwargs={"rows": 3}, num_envs=3,
    core="lstm", memory_size=None, torso_hidden_size=16, hidden_size=8,
    head_hidden_size=8, batch_size=2, queue_size=8,
    reward_prediction_batch_size=2, variable_update_period=2)


class _Source:
  """A variable source serving one network's current values."""

  def __init__(self, network):
    self.network = network
    self.calls = 0

  def get_variables(self, names):
    self.calls += 1
    return [[v.numpy() for v in self.network.variables] for _ in names]


@pytest.fixture(scope="module")
def builder():
  return FtwBuilder(_CONFIG)


def test_state_resets_only_for_rows_that_start_an_episode(builder):
  network = builder.make_network()
  actor = builder.make_actor(network)
  env = builder.make_environment(seed=0)
  timestep = env.reset()
  actor.observe_first(timestep)
  initial = tree.map_structure(np.asarray, network.initial_state(3))
  for step in range(5):
    action = actor.select_action(timestep.observation)
    used = tree.map_structure(np.asarray, actor._last_state)  # pylint: disable=protected-access
    first = np.asarray(timestep.step_type) == int(dm_env.StepType.FIRST)
    for init_leaf, used_leaf in zip(tree.flatten(initial), tree.flatten(used)):
      np.testing.assert_array_equal(used_leaf[first], init_leaf[first])
      if step > 0 and (~first).any():
        # Rows inside an episode carry a state that moved away from zeros.
        assert np.abs(used_leaf[~first]).sum() > 0
    assert action.shape == (3,) and action.dtype == np.int32
    timestep = env.step(action)
    actor.observe(action, timestep)


@pytest.mark.parametrize("core", ["lstm", "rpth"])
def test_flat_policy_call_equals_the_tf_function_call(core):
  config = _CONFIG.replace(core=core, hidden_size=8, num_dimensions=4,
                           rpth_period=2, memory_size=4 if core == "rpth"
                           else None, word_size=3, num_reads=1)
  builder = FtwBuilder(config)
  network = builder.make_network()
  flat = builder.make_actor(network, seed=7)
  plain = builder.make_actor(network, seed=7)
  plain._run_policy = plain._policy  # pylint: disable=protected-access
  env = builder.make_environment(seed=0)
  timestep = env.reset()
  for actor in (flat, plain):
    actor.observe_first(timestep)
  firsts = 0
  for _ in range(6):  # Catch rows end after 3 steps: FIRST rows in between.
    actions = [actor.select_action(timestep.observation)
               for actor in (flat, plain)]
    np.testing.assert_array_equal(*actions)
    for name in ("_last_logits", "_last_state", "_state", "_last_noise"):
      leaves = [tree.flatten(getattr(actor, name)) for actor in (flat, plain)]
      assert len(leaves[0]) == len(leaves[1]), name
      for a, b in zip(*leaves):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b), name)
    timestep = env.step(actions[0])
    firsts += int(np.sum(np.asarray(timestep.step_type) == 0))
    for actor in (flat, plain):
      actor.observe(actions[0], timestep)
  assert firsts > 0
  assert (flat._last_noise is None) == (core == "lstm")  # pylint: disable=protected-access
  # Another number of rows is another signature: a second trace, not an error.
  flat.restart(2)
  two_rows = tree.map_structure(lambda x: np.asarray(x)[:2],
                                timestep.observation)
  assert flat.select_action(two_rows).shape == (2,)
  assert len(flat._concrete) == 2  # pylint: disable=protected-access


class _WithoutFlatCall:
  """A tf.function whose concrete functions lack TF 2.15's `_call_flat`."""

  def __init__(self, policy):
    self._policy = policy
    self.calls = 0

  def __call__(self, *args):
    self.calls += 1
    return self._policy(*args)

  def get_concrete_function(self, *args):
    del args
    return object()


def test_policy_call_falls_back_to_the_tf_function_without_flat_calls():
  builder = FtwBuilder(_CONFIG.replace(core="lstm", hidden_size=8))
  network = builder.make_network()
  flat = builder.make_actor(network, seed=7)
  fallback = builder.make_actor(network, seed=7)
  fallback._policy = _WithoutFlatCall(fallback._policy)  # pylint: disable=protected-access
  env = builder.make_environment(seed=0)
  timestep = env.reset()
  for actor in (flat, fallback):
    actor.observe_first(timestep)
  for step in range(3):
    actions = [actor.select_action(timestep.observation)
               for actor in (flat, fallback)]
    np.testing.assert_array_equal(*actions)
    np.testing.assert_array_equal(flat._last_logits, fallback._last_logits)  # pylint: disable=protected-access
    assert fallback._policy.calls == step + 1  # pylint: disable=protected-access
    timestep = env.step(actions[0])
    for actor in (flat, fallback):
      actor.observe(actions[0], timestep)
  assert fallback._flat_calls is False and not fallback._concrete  # pylint: disable=protected-access
  assert flat._flat_calls is True and len(flat._concrete) == 1  # pylint: disable=protected-access


def test_greedy_actor_takes_the_argmax(builder):
  network = builder.make_network()
  actor = builder.make_actor(network, greedy=True)
  env = builder.make_environment(seed=1)
  timestep = env.reset()
  actor.observe_first(timestep)
  for _ in range(3):
    action = actor.select_action(timestep.observation)
    np.testing.assert_array_equal(
        action, np.argmax(actor._last_logits.numpy(), axis=-1))  # pylint: disable=protected-access
    timestep = env.step(action)
    actor.observe(action, timestep)


def test_variable_client_copies_every_period(builder):
  learner_net = builder.make_network(seed=1)
  actor_net = builder.make_network(seed=2)
  source = _Source(learner_net)
  actor = builder.make_actor(actor_net, variable_source=source)
  differs = lambda: any(
      not np.array_equal(a.numpy(), b.numpy())
      for a, b in zip(actor_net.variables, learner_net.variables))
  assert differs()  # Initialised from different seeds.
  actor.update()
  assert source.calls == 0 and differs()  # Period 2: not yet.
  actor.update()
  assert source.calls == 1 and not differs()


def test_environment_loop_counts_steps_episodes_and_returns(builder):
  actor = builder.make_actor(builder.make_network())
  env = builder.make_environment(seed=2)
  counter = counting.Counter()
  loop = environment_loop.EnvironmentLoop(
      env, actor, counter=counting.Counter(counter, "actor"))
  ended = []
  for _ in range(6):
    ended += loop.step()
  # rows=3 Catch: 2 actions per episode; 3 envs; resets take one vector
  # step each, so 6 vector steps = 2 full episodes per env.
  counts = counter.get_counts()
  assert counts["actor_episodes"] == len(ended) == 6
  assert counts["actor_steps"] == 12
  assert all(r["episode_length"] == 2 for r in ended)
  assert all(r["episode_return"] in (-1.0, 1.0) for r in ended)
  results = loop.run_episodes(4)
  assert len(results) == 4


def test_run_episodes_returns_the_ended_episodes_when_asked_to_stop(builder):
  loop = environment_loop.EnvironmentLoop(
      builder.make_environment(seed=2),
      builder.make_actor(builder.make_network()))
  checks = []

  def should_stop():
    checks.append(None)
    return len(checks) > 4  # Four vector steps, then stop.

  results = loop.run_episodes(100, should_stop)
  # rows=3 Catch: every row's first episode ends at the 2nd vector step
  # (2 actions); steps 3 and 4 restart the rows; then it stops, 97 short.
  assert len(checks) == 5
  assert len(results) == 3
  assert all(r["episode_length"] == 2 for r in results)


def test_bad_num_envs():
  from agents.ftw.actor import FtwActor  # pylint: disable=g-import-not-at-top
  with pytest.raises(ValueError, match="num_envs"):
    FtwActor(network=None, num_envs=0)


def test_evaluator_plays_eval_episodes_greedily_and_stops_when_asked():
  builder = FtwBuilder(_CONFIG.replace(eval_episodes=4))
  evaluator = Evaluator(builder, _Source(builder.make_network()))
  rows = evaluator.evaluate()
  assert len(rows) == 1 and rows[0]["episodes"] == 4
  assert rows[0]["episode_length"] == 2.0  # rows=3 Catch: 2 actions.
  assert rows[0]["episode_return"] in (-1.0, -0.5, 0.0, 0.5, 1.0)
  calls = []
  stopped = evaluator.evaluate(
      should_stop=lambda: calls.append(None) or len(calls) > 1)
  # Checked before each vector step: one step, then stopped with every
  # episode still running (they end at the second).
  assert stopped == [] and len(calls) == 2
  # Stopping leaves it usable: the next evaluation plays every episode.
  assert evaluator.evaluate()[0]["episodes"] == 4
