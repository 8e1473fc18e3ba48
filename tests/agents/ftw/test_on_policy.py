"""On-policy invariant: what the learner unrolls is what the actor played.

A real actor writes through the builder's adder into a real Reverb server;
the learner's unroll of a sampled batch, from the stored core state, with
the same weights, must reproduce the behaviour logits (log rho = 0 on every
real step) for the LSTM and the RPTH (+ DNC) cores, and with the Pong
default's input normalisation.

RPTH samples its latent z with noise: the actor draws it, stores it with
each step, and the learner's unroll replays it, so z and the logits match
too (before, the learner drew fresh noise and log rho grew to ~2 on Pong).
"""

import numpy as np
import pytest
import reverb
import tensorflow as tf

from agents.ftw.builder import FtwBuilder
from agents.ftw.config import FtwConfig
from ftw.replay import layout

_SMALL = dict(environment="catch", environment_kwargs={"rows": 6},
              num_envs=4, sequence_length=5, batch_size=4, queue_size=64,
              torso_hidden_size=16, hidden_size=8, num_dimensions=4,
              memory_size=4, word_size=3, head_hidden_size=8,
              conv_filters=((4, 8, 4),), residual_filters=((4, 3, 1),),
              reward_prediction_batch_size=2)


@pytest.mark.parametrize("overrides, atol", [
    (dict(core="lstm", memory_size=None), 1e-4),
    (dict(core="rpth", rpth_period=2), 1e-4),
    (dict(core="lstm", memory_size=None, normalize_observations=True), 1e-4),
    # bfloat16 convolutions round differently for the actor's batch and the
    # learner's: close, not equal (V-trace corrects what remains).
    (dict(core="rpth", rpth_period=2, torso_dtype="bfloat16"), 0.05),
], ids=["lstm", "rpth-dnc", "lstm-normalized", "rpth-dnc-bf16"])
def test_learner_unroll_reproduces_behaviour_logits(overrides, atol):
  config = FtwConfig(**{**_SMALL, **overrides})
  builder = FtwBuilder(config)
  network = builder.make_network()
  if config.normalize_observations:  # Non-trivial statistics.
    torso = network.embed.torso
    frames = np.random.default_rng(0).integers(0, 255, (8, 84, 84, 3),
                                               dtype=np.uint8)
    torso.update_input_statistics(frames)
  server = reverb.Server(builder.make_replay_tables(), port=None)
  address = f"localhost:{server.port}"
  try:
    actor = builder.make_actor(network, adder=builder.make_adder(
        reverb.Client(address)))
    env = builder.make_environment(seed=1)
    timestep = env.reset()
    actor.observe_first(timestep)
    for _ in range(30):
      action = actor.select_action(timestep.observation)
      timestep = env.step(action)
      actor.observe(action, timestep)
    learner = builder.make_learner(network, address)
    data = next(learner._iterator).data  # pylint: disable=protected-access
    data, core_state = layout.split_core_state(data)
    seq, noise = learner._unpack(data)  # pylint: disable=protected-access
    assert (noise is not None) == (config.core == "rpth")
    outputs, _ = network.unroll(seq.observation, core_state, noise=noise)
    target = tf.nn.log_softmax(outputs.policy_logits).numpy()
    behaviour = tf.nn.log_softmax(seq.behaviour_logits).numpy()
    real = seq.mask.numpy() > 0
    assert real.sum() >= 8
    actions = seq.action.numpy()
    log_rho = (np.take_along_axis(target, actions[..., None], -1) -
               np.take_along_axis(behaviour, actions[..., None], -1))[..., 0]
    np.testing.assert_allclose(log_rho[real], 0.0, atol=atol)
    np.testing.assert_allclose(target[real], behaviour[real], atol=atol)
  finally:
    server.stop()
