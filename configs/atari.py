"""Atari Pong, the default: the configuration that learns Pong fastest here.

What it uses, and why (measured on a 2-core machine, see the README):
- Observations as the fast Atari learners see them: 84x84 grayscale, 4
  stacked frames (motion is visible in one observation), frame skip 4 with
  max-pooling, up to 30 no-op starts, rewards clipped to [-1, 1]; every pixel
  standardised with running statistics updated by the learner (the static
  background becomes ~0, the ball and paddles stand out).
- A small network: A3C's torso (16x8x8/4, 32x4x4/2 convolutions, 256 units)
  and an LSTM(256) core; no memory, no auxiliary losses.
- V-trace with lambda 0.95, advantages standardised per batch, values
  learned on returns standardised by running statistics; Adam (epsilon
  1e-5), gradients clipped to a global norm of 0.5.
- The learning rate decays linearly from 4e-4 to 0 over 8,000 learner steps
  (about 33 minutes on a 2-core machine with AMX, ~50 on a 2-core AVX2 one
  at its 2.5-2.8 steps/s), where the run ends, as PPO's Atari settings
  anneal theirs over the run. With a constant rate the agent climbed as
  fast but fell back once its policy was nearly greedy (+12.7, then -7.5);
  with the decay none collapsed (one slipped from +17.7 to +14.4 in its
  last minutes). A longer run: raise `max_learner_steps`
  (the decay follows it).
- The entropy cost decays linearly from 0.03 to 0 over the same 8,000
  steps. With 0.01 throughout, one seed in three turned nearly greedy
  (entropy 0.6) while it still lost every point and never took off; with a
  constant 0.03 that seed took off but its sampled return levelled off at
  +14 (the policy stays noisy). Advantages are standardised, so the policy
  gradient has unit scale and 0.01 is a weak regulariser here.
- 32 environments per actor: one batched network call serves more steps
  (1,250 agent steps/s against 1,100 with 16 here). XLA stays off: on this
  CPU it halved the learner's speed (bench/pong.py).
- The 32 games step in ale-py's C++ vector environment on 2 threads
  (`env_threads=2`, `ftw.envs.atari_vector`): the environment was 73% of
  the actor's thread and the learner waited for data half its time; 2,377
  frames/s against 1,793 stepping them one by one in Python (1.33x,
  100-s runs of bench/pong.py on a 2-core AVX2 machine).
- TensorFlow runs each op on one thread and up to four ops at once
  (`intra_op_threads=1`, `inter_op_threads=4`) instead of splitting every
  op over all cores: the actor, its games and the learner share the cores,
  and an op split in two waits for its slower half while the other threads
  hold a core. 150-s runs of bench/pong.py on a 2-core AVX2 machine, one
  session: the full agent 1,097-1,328 frames/s with one intra-op thread
  (9 runs, 1,206 and 1,227 with four inter-op threads) against 981-1,040
  with TensorFlow's default (3 runs; 830 with one inter-op thread); the
  default 3,183-3,364 (3 runs) against 2,991. Back to back for 240 s: the
  full agent 1,291 against 1,170, the default 3,378 against 3,328.
`configs/atari_ftw.py` is the full FTW agent on the same game.
Seeds differ in when they take off (+15 at 21.8 and 22.7 minutes in the
runs of the README, Sample Factory's beside them; 24.7 minutes on a 2-core
AVX2 machine, where Sample Factory was at +5 after 45; with
`env_threads=2` there, 19.2 minutes for seed 2, while seeds 1 and 3 stayed
between -2 and +7 from minute ~18).
"""

from agents.ftw.config import FtwConfig


def get_config() -> FtwConfig:
  return FtwConfig(
      environment="Pong",
      num_envs=32,
      env_threads=2,
      environment_kwargs={"frame_skip": 4, "noop_max": 30,
                          "clip_rewards": True, "sticky_actions": False,
                          "grayscale": True, "frame_stack": 4},
      normalize_observations=True,
      conv_filters=((16, 8, 4), (32, 4, 2)),
      residual_filters=(),
      torso_hidden_size=256,
      core="lstm",
      hidden_size=256,
      memory_size=None,
      head_hidden_size=256,
      pixel_control_cost=0.0,
      reward_prediction_cost=0.0,
      sequence_length=20,
      vtrace_lambda=0.95,
      normalize_advantages=True,
      normalize_returns=True,
      entropy_cost=0.03,
      final_entropy_cost=0.0,
      optimizer="adam",
      learning_rate=4e-4,
      learning_rate_schedule="linear",
      max_learner_steps=8000,
      adam_epsilon=1e-5,
      max_gradient_norm=0.5,
      variable_update_period=10,
      eval_every_seconds=300.0,
      eval_episodes=4,
      intra_op_threads=1,
      inter_op_threads=4,
  )
