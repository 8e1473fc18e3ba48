"""FtwLearner on a real Reverb server fed by a real Catch actor."""

import gc
import weakref

import numpy as np
import pytest
import reverb

from agents.ftw.builder import FtwBuilder
from agents.ftw.config import FtwConfig
from agents.ftw.learner import FtwLearner

_CONFIG = FtwConfig(
    environment="catch", environment_kwargs={"rows": 6}, num_envs=4,
    core="lstm", memory_size=None, torso_hidden_size=16, hidden_size=8,
    head_hidden_size=8, conv_filters=((4, 8, 4),), residual_filters=(),
    sequence_length=5, batch_size=4, queue_size=64,
    reward_prediction_batch_size=2, pixel_control_cost=0.0)


class _Setup:
  """A server, an actor filling it, and the learner reading it."""

  def __init__(self, config):
    self.builder = FtwBuilder(config)
    self.server = reverb.Server(self.builder.make_replay_tables(), port=None)
    self.address = f"localhost:{self.server.port}"
    self.network = self.builder.make_network()
    self.actor = self.builder.make_actor(
        self.builder.make_network(),
        adder=self.builder.make_adder(reverb.Client(self.address)))
    self.env = self.builder.make_environment(seed=0)
    self.timestep = self.env.reset()
    self.actor.observe_first(self.timestep)
    self.learner = self.builder.make_learner(self.network, self.address)

  def act(self, steps):
    for _ in range(steps):
      action = self.actor.select_action(self.timestep.observation)
      self.timestep = self.env.step(action)
      self.actor.observe(action, self.timestep)


@pytest.fixture
def setup(request):
  s = _Setup(_CONFIG.replace(**getattr(request, "param", {})))
  yield s
  s.server.stop()


def test_get_variables_serves_the_network_and_names_unknown_groups(setup):
  (values,) = setup.learner.get_variables(["policy"])
  assert len(values) == len(setup.network.variables)
  for value, variable in zip(values, setup.network.variables):
    np.testing.assert_array_equal(value, variable.numpy())
  with pytest.raises(ValueError, match="'critic'"):
    setup.learner.get_variables(["critic"])


def test_get_variables_enters_no_name_scope(setup, monkeypatch):
  """Actor and evaluator threads call it while the learner thread may be in
  the network's name scope (tracing its step): a module's scope entered from
  two threads at once can leave one of them in it (a leaked eager scope)."""
  expected = len(setup.network.variables)  # Enters the scope: not patched.
  scope_type = type(setup.network.name_scope)
  enter = scope_type.__enter__
  entered = []

  def recording_enter(scope):
    entered.append(scope.name)
    return enter(scope)

  monkeypatch.setattr(scope_type, "__enter__", recording_enter)
  (values,) = setup.learner.get_variables(["policy"])
  assert not entered
  assert len(values) == expected


@pytest.mark.parametrize("setup", [dict(learning_rate_schedule="linear",
                                        max_learner_steps=4,
                                        learning_rate=1e-3)], indirect=True)
def test_linear_learning_rate_schedule(setup):
  setup.act(12)
  rates = []
  for _ in range(3):
    setup.learner.step()
    rates.append(float(setup.learner.optimizer.learning_rate.numpy()))
  # The rate of step n (counted before it) is 1e-3 * (1 - n / 4).
  np.testing.assert_allclose(rates, [1e-3, 7.5e-4, 5e-4], rtol=1e-6)


@pytest.mark.parametrize("setup", [dict(entropy_cost=0.04,
                                        final_entropy_cost=0.0,
                                        max_learner_steps=4)], indirect=True)
def test_entropy_cost_schedule(setup):
  setup.act(16)
  costs = []
  for _ in range(2):
    metrics = setup.learner.step()
    # entropy_loss = -cost * mean entropy (the logged `entropy`).
    costs.append(-metrics["entropy_loss"] / metrics["entropy"])
  np.testing.assert_allclose(costs, [0.04, 0.03], rtol=1e-4)
  # A population's new value moves the schedule's start, not its end.
  setup.learner.set_hyperparameters({"entropy_cost": 0.08})
  assert setup.learner.hyperparameters()["entropy_cost"] == 0.08
  metrics = setup.learner.step()
  np.testing.assert_allclose(-metrics["entropy_loss"] / metrics["entropy"],
                             0.08 * 0.5, rtol=1e-4)
  assert setup.learner.scheduled_values(4)["entropy_cost"] == 0.0


def _learner_with_reward_prediction(setup, ready):
  """A learner of the setup's network whose reward-prediction tables are
  ready when `ready()` says so."""
  return FtwLearner(
      setup.network, setup.builder.config,
      setup.builder.make_dataset(setup.address),
      make_reward_prediction_iterator=(
          lambda: setup.builder.make_reward_prediction_dataset(
              setup.address)),
      reward_prediction_ready=ready)


def test_reward_prediction_starts_once_both_tables_hold_data(setup):
  """The learner trains without the loss until the tables are ready, then
  with it (the builder's readiness check is a server query, tested too)."""
  setup.act(12)
  ready = setup.builder.reward_prediction_ready(setup.address)
  assert ready()  # Catch (6 rows) rewards every 5 steps.
  tables_ready = [False]
  learner = _learner_with_reward_prediction(setup, lambda: tables_ready[0])
  assert "reward_prediction_loss" not in learner.step()
  tables_ready[0] = True
  assert learner.step()["reward_prediction_loss"] > 0
  setup.act(12)
  assert learner.step()["reward_prediction_loss"] > 0


@pytest.mark.parametrize("setup", [dict(normalize_returns=True)],
                         indirect=True)
def test_return_statistics_are_learned_and_checkpointed(setup):
  objects = setup.learner.checkpoint_objects()
  assert set(objects) == {"network", "optimizer", "return_normalizer",
                          "hyperparameters"}
  setup.act(12)
  setup.learner.step()
  assert objects["return_normalizer"].count.numpy() > 0


def _learner_with_both_iterators(setup):
  learner = _learner_with_reward_prediction(setup, lambda: True)
  assert learner.step()["reward_prediction_loss"] > 0
  return learner


def test_close_releases_the_learner_and_its_iterators_without_a_collection(
    setup):
  """The traced step holds a bound method of its learner: without close()
  only the garbage collector frees a finished learner and the Reverb
  readers behind its iterators; after close() reference counts do."""
  setup.act(12)
  gc.collect()
  gc.disable()  # Only reference counts free objects in here.
  try:
    kept = _learner_with_both_iterators(setup)
    kept_ref = weakref.ref(kept)
    del kept
    assert kept_ref() is not None  # The cycle: freed only by a collection.

    learner = _learner_with_both_iterators(setup)
    refs = [weakref.ref(learner), weakref.ref(learner._iterator),  # pylint: disable=protected-access
            weakref.ref(learner._rp_iterator)]  # pylint: disable=protected-access
    values = learner.get_variables(["policy"])[0]
    assert not learner.closed
    learner.close()
    learner.close()  # Idempotent.
    assert learner.closed
    # Its variables stay readable (final evaluation, checkpoint).
    for a, b in zip(learner.get_variables(["policy"])[0], values):
      np.testing.assert_array_equal(a, b)
    with pytest.raises(RuntimeError, match=r"FtwLearner.step\(\) after close"):
      learner.step()
    del learner
    assert [r() for r in refs] == [None, None, None]
  finally:
    gc.enable()
