"""The parts bench/pong.py times: each agent's configs, the actor's
environment, inference and insert per vector step, one learner update on a
batch from a real actor's items, and launch.local end to end.

bench/ftw_learner_parts.py times the learner's losses with `learner_seconds`.
"""

import ftw  # noqa: F401  (first: quiets TensorFlow's start-up log)

import tempfile
import time

import numpy as np
import reverb

from agents.ftw.builder import FtwBuilder
from configs import atari
from configs import atari_ftw
from ftw import replay
from ftw.replay import layout

FRAME_SKIP = 4


def shipped_agents():
  """Each agent's config as it ships."""
  light_v1 = atari_ftw.get_config().replace(
      core="lstm", memory_size=None, pixel_control_cost=0.0,
      reward_prediction_cost=0.0, kl_cost=0.0, kl_prior_cost=0.0,
      batch_size=16)
  return {"default": atari.get_config(), "light-v1": light_v1,
          "full": atari_ftw.get_config()}


def agents():
  """The configs timed part by part: a queue that holds everything the
  timed streams write (nobody reads it), and the float32 torso, the
  baseline the bfloat16 one is measured against."""
  return {name: c.replace(queue_size=4096, torso_dtype="float32")
          for name, c in shipped_agents().items()}


DTYPES = ("float32", "bfloat16")
MAX_FILL_STEPS = 2000  # Vector steps to fill replay before a learner update.
ENV_PROCESSES = 2  # Worker processes of the `env_processes` figures.


def _time(fn, repeats):
  start = time.perf_counter()
  for _ in range(repeats):
    fn()
  return (time.perf_counter() - start) / repeats


def inference_ms(config, observation, steps):
  """ms of one batched policy call (after its trace)."""
  builder = FtwBuilder(config)
  actor = builder.make_actor(builder.make_network())
  actor.select_action(observation)  # Trace.
  return 1e3 * _time(lambda: actor.select_action(observation), steps)


def env_in_processes_ms(builder, n, steps, processes=ENV_PROCESSES):
  """(wall ms, caller's CPU ms) per vector step of a ProcessVectorEnv."""
  rng = np.random.default_rng(0)
  with builder.make_environment(seed=0, processes=processes,
                                threads=0) as env:
    env.reset()
    cpu = time.process_time()
    wall = _time(lambda: env.step(rng.integers(0, 6, n)), steps)
    cpu = (time.process_time() - cpu) / steps
  return 1e3 * wall, 1e3 * cpu


def env_in_ale_vector_ms(config, threads, steps):
  """(wall ms, CPU ms) per vector step of ale-py's vector environment
  (`env_threads`); the CPU of its C++ threads counts (one process)."""
  rng = np.random.default_rng(0)
  n = config.num_envs
  builder = FtwBuilder(config.replace(env_threads=threads))
  with builder.make_environment(seed=0) as env:
    env.reset()
    cpu = time.process_time()
    wall = _time(lambda: env.step(rng.integers(0, 6, n)), steps)
    cpu = (time.process_time() - cpu) / steps
  return 1e3 * wall, 1e3 * cpu


def actor_parts(config, steps):
  """(env ms, env in processes (wall ms, caller CPU ms), {env_threads:
  ale-py vector env (wall ms, CPU ms)}, {dtype: inference ms}, {adder:
  insert ms}) per vector step."""
  builder = FtwBuilder(config)
  env = builder.make_environment(seed=0, processes=0, threads=0)
  n = config.num_envs
  rng = np.random.default_rng(0)
  timestep = env.reset()
  env_ms = 1e3 * _time(lambda: env.step(rng.integers(0, 6, n)), steps)
  env_processes = env_in_processes_ms(builder, n, steps)
  ale_vector = {k: env_in_ale_vector_ms(config, k, steps) for k in (1, 2)}
  observation = env.step(rng.integers(0, 6, n)).observation
  inference = {dtype: inference_ms(config.replace(torso_dtype=dtype),
                                   observation, steps) for dtype in DTYPES}
  actor = builder.make_actor(builder.make_network())
  # Record a real stream once, then replay it into each adder.
  stream = []
  timestep = env.reset()
  actor.observe_first(timestep)
  for _ in range(steps):
    action = actor.select_action(timestep.observation)
    next_timestep = env.step(action)
    others = {}
    if actor._last_noise is not None:  # pylint: disable=protected-access
      others[layout.NOISE_KEY] = actor._last_noise.numpy()  # pylint: disable=protected-access
    extras = layout.actor_extras(actor._last_logits.numpy(),  # pylint: disable=protected-access
                                 actor._last_state, **others)  # pylint: disable=protected-access
    stream.append((action, next_timestep, extras))
    timestep = next_timestep
  first = env.reset()
  insert = {}
  for name, make in (("batched", replay.BatchedSequenceAdder),
                     ("vector", replay.VectorSequenceAdder)):
    server = reverb.Server(builder.make_replay_tables(), port=None)
    client = reverb.Client(f"localhost:{server.port}")
    kwargs = dict(sequence_length=config.sequence_length,
                  period=config.sequence_period, flush_timeout_ms=1000)
    if config.reward_prediction_cost > 0:
      kwargs["reward_prediction_tables"] = (replay.RP_ZERO_TABLE,
                                            replay.RP_NONZERO_TABLE)
      if make is replay.VectorSequenceAdder:
        kwargs["reward_prediction_zero_probability"] = (
            config.reward_prediction_zero_probability)
    adder = make(client, n, **kwargs)
    adder.add_first(first)
    start = time.perf_counter()
    for action, next_timestep, extras in stream:
      adder.add(action, next_timestep, extras)
    insert[name] = 1e3 * (time.perf_counter() - start) / len(stream)
    adder.close(timeout_ms=100)
    server.stop()
  env.close()
  return env_ms, env_processes, ale_vector, inference, insert


def learner_seconds(config, repeats, cpu=False):
  """Seconds per update on one batch sampled from a real actor's items;
  with `cpu`, (wall, process CPU) seconds per update."""
  builder = FtwBuilder(config)
  server = reverb.Server(builder.make_replay_tables(), port=None)
  address = f"localhost:{server.port}"
  network = builder.make_network()
  actor = builder.make_actor(network, adder=builder.make_adder(
      reverb.Client(address)))
  env = builder.make_environment(seed=0)
  timestep = env.reset()
  actor.observe_first(timestep)
  # Enough items for one batch and for the reward-prediction tables (a
  # random Pong policy scores a point every few hundred steps).
  client = server.localhost_client()
  rp_ready = (builder.reward_prediction_ready(address)
              if config.reward_prediction_cost > 0 else lambda: True)
  for _ in range(MAX_FILL_STEPS):
    action = actor.select_action(timestep.observation)
    timestep = env.step(action)
    actor.observe(action, timestep)
    if (client.server_info()[replay.SEQUENCE_TABLE].current_size
        >= config.batch_size and rp_ready()):
      break
  learner = builder.make_learner(network, address)
  sample = next(learner._iterator)  # pylint: disable=protected-access
  learner._iterator = iter(lambda: sample, None)  # pylint: disable=protected-access
  learner.step()  # Trace (and compile).
  learner.step()
  # pylint: disable-next=protected-access
  if config.reward_prediction_cost > 0 and learner._rp_iterator is None:
    raise RuntimeError(
        f"the reward-prediction tables were not ready after {MAX_FILL_STEPS}"
        " vector steps: the timed update would leave out that loss")
  cpu_start = time.process_time()
  seconds = _time(learner.step, repeats)
  cpu_seconds = (time.process_time() - cpu_start) / repeats
  server.stop()
  env.close()
  return (seconds, cpu_seconds) if cpu else seconds


def learner_rates(config, repeats):
  """{'float32' | 'bfloat16' | 'xla': samples/s} of one update."""
  rates = {}
  for name, dtype, jit in (("float32", "float32", False),
                           ("bfloat16", "bfloat16", False),
                           ("xla", "float32", True)):
    c = config.replace(jit_compile=jit, torso_dtype=dtype)
    rates[name] = c.sequence_length * c.batch_size / learner_seconds(
        c, repeats)
  return rates


def batch_size_rates(config, batch_sizes, repeats):
  """{B: (ms per update, samples/s)} with the config's torso dtype."""
  rates = {}
  for b in batch_sizes:
    seconds = learner_seconds(config.replace(batch_size=b), repeats)
    rates[b] = (1e3 * seconds, config.sequence_length * b / seconds)
  return rates


def end_to_end(name, config, seconds, threads):
  from launch import local  # pylint: disable=g-import-not-at-top
  logdir = tempfile.mkdtemp(prefix=f"bench_pong_{name}_")
  config = config.replace(max_seconds=float(seconds),
                          eval_every_seconds=1e9, log_every_seconds=1e9,
                          intra_op_threads=threads[0],
                          inter_op_threads=threads[1])
  summary = local.train(config, logdir)
  return summary["actor_steps"] * FRAME_SKIP / seconds
