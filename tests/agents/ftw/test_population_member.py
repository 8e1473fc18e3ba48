"""What PBT changes in a learner: hyperparameters the traced step sees at
once, RPTH's period and the internal reward weights as network variables,
and a whole learner state copied from another agent."""

import numpy as np
import pytest
import reverb
import tensorflow as tf

from agents.ftw import population_member
from agents.ftw.builder import FtwBuilder
from agents.ftw.config import FtwConfig
from agents.ftw.learner import HYPERPARAMETERS
from agents.ftw.learner import FtwLearner

_CONFIG = FtwConfig(
    environment="catch", environment_kwargs={"rows": 6}, num_envs=4,
    core="rpth", rpth_period=3, memory_size=None, torso_hidden_size=16,
    hidden_size=8, num_dimensions=4, head_hidden_size=8,
    conv_filters=((4, 8, 4),), residual_filters=(), sequence_length=5,
    batch_size=4, queue_size=64, reward_prediction_cost=0.0,
    pixel_control_cost=0.0, internal_reward_weights=(1.5,), kl_cost=0.01)


class _Setup:
  """Two learners of one config on one real Reverb queue fed by an actor."""

  def __init__(self):
    self.builder = FtwBuilder(_CONFIG)
    self.server = reverb.Server(self.builder.make_replay_tables(), port=None)
    address = f"localhost:{self.server.port}"
    self.learners = [self.builder.make_learner(
        self.builder.make_network(variable_period=True, seed=s), address)
                     for s in (0, 1)]
    actor = self.builder.make_actor(
        self.builder.make_network(variable_period=True),
        adder=self.builder.make_adder(reverb.Client(address)))
    env = self.builder.make_environment(seed=0)
    timestep = env.reset()
    actor.observe_first(timestep)
    for _ in range(60):
      action = actor.select_action(timestep.observation)
      timestep = env.step(action)
      actor.observe(action, timestep)


@pytest.fixture(scope="module")
def setup():
  s = _Setup()
  yield s
  s.server.stop()


def test_new_loss_weights_reach_the_traced_step_without_retracing(setup):
  learner = setup.learners[0]
  first = learner.step()
  # entropy_loss = entropy_cost * mean(-entropy): the ratio is the cost.
  assert first["entropy_loss"] == pytest.approx(
      -_CONFIG.entropy_cost * first["entropy"], rel=1e-4)
  learner.set_hyperparameters({"entropy_cost": 0.25, "kl_cost": 0.0})
  second = learner.step()
  assert second["entropy_loss"] == pytest.approx(-0.25 * second["entropy"],
                                                 rel=1e-4)
  assert second["kl_loss"] == 0.0 and first["kl_loss"] != 0.0
  assert learner._step_fn.experimental_get_tracing_count() == 1  # pylint: disable=protected-access
  assert learner.hyperparameters()["entropy_cost"] == pytest.approx(0.25)


def test_learning_rate_is_the_optimiser_step_size(setup):
  learner = setup.learners[1]
  learner.set_hyperparameters({"learning_rate": 0.0123})
  learner.step()
  assert float(learner.optimizer.learning_rate.numpy()) == pytest.approx(
      0.0123)
  assert learner.hyperparameters()["learning_rate"] == pytest.approx(0.0123)


def test_bad_hyperparameters_are_named(setup):
  learner = setup.learners[0]
  with pytest.raises(ValueError, match="unknown hyperparameter.*'gamma'"):
    learner.set_hyperparameters({"gamma": 0.9})
  with pytest.raises(ValueError, match="learning_rate must be > 0"):
    learner.set_hyperparameters({"learning_rate": 0.0})
  with pytest.raises(ValueError, match="entropy_cost must be >= 0"):
    learner.set_hyperparameters({"entropy_cost": -1.0})
  with pytest.raises(ValueError, match="unknown hyperparameter.*'momentum'"):
    population_member.apply_settings(learner, {"momentum": 0.9})


def test_settings_round_trip_period_and_internal_rewards(setup):
  learner = setup.learners[0]
  values, weights = population_member.settings(learner)
  assert set(values) == set(HYPERPARAMETERS) | {"rpth_period"}
  assert values["rpth_period"] == 3 and weights == (1.5,)
  population_member.apply_settings(
      learner, {"rpth_period": 5, "entropy_cost": 0.02}, (0.5,))
  values, weights = population_member.settings(learner)
  assert values["rpth_period"] == 5 and weights == (0.5,)
  assert values["entropy_cost"] == pytest.approx(0.02)
  # The period and the weights are network variables: actors receive them.
  (served,) = learner.get_variables(["policy"])
  assert 5 in [int(v) for v in served if np.ndim(v) == 0 and
               np.issubdtype(np.asarray(v).dtype, np.integer)]
  # The learner trains on the new internal reward: r = 0.5 * reward.
  np.testing.assert_allclose(
      learner.training_rewards(tf.constant([2.0, -4.0])).numpy(), [1.0, -2.0])
  with pytest.raises(ValueError, match="rpth_period must be >= 1"):
    population_member.apply_settings(learner, {"rpth_period": 0})


def test_a_copied_state_makes_two_learners_equal(setup):
  a, b = setup.learners
  a.step()
  state = a.get_state()
  assert any(not np.array_equal(x, y) for x, y in zip(state, b.get_state()))
  b.set_state(state)
  for x, y in zip(a.get_state(), b.get_state()):
    np.testing.assert_array_equal(x, y)
  # Optimiser slots are part of it (Adam's moments are non-zero after a step).
  slots = [v.numpy() for v in b.optimizer.variables]
  assert any(np.abs(s).sum() > 0 for s in slots)
  with pytest.raises(ValueError, match="not the same config"):
    b.set_state(state[:-1])


def test_evolvable_names_are_checked():
  with pytest.raises(ValueError, match="\['discount'\], which are not evolvable"):
    population_member.check_evolvable(("discount",), _CONFIG)
  with pytest.raises(ValueError, match="core='lstm' has no slow core"):
    population_member.check_evolvable(
        ("rpth_period",), _CONFIG.replace(core="lstm"))
  assert population_member.initial_values(
      _CONFIG, ("learning_rate", "rpth_period")) == {
          "learning_rate": _CONFIG.learning_rate, "rpth_period": 3}
