"""Start-up of the FTW agents: seconds until the first actor and learner steps.

Most of it is TensorFlow tracing the actor's policy step and the learner's
update. Three variants per config, each in a fresh process (TensorFlow and
AutoGraph cache traced and converted functions per process):
  now     as shipped: the steps are `tf.function(..., autograph=False)` and
          the core unrolls with `ftw.tf.networks.unroll.dynamic_unroll`
          (a `tf.while_loop`, no source conversion);
  step0   as shipped but for the unroll, which runs the core's first step
          outside its loop (as Sonnet does, and this repository did until
          the unroll took the output structure from a scratch trace): the
          core and its gradient in the traced update twice;
  before  the same agent with the steps' AutoGraph on and
          `snt.dynamic_unroll` (which converts the source of every function
          the core calls), patched in by this script: the code before.
Timed, in order, in one process: the first vector step of the actor (reset,
tracing and running its policy step, one adder write), then filling the
queue with real items, then the learner's first step (tracing its update
and running it once), its second step, then `--steady_steps`
more (their median in ms: the unroll's cost once traced, which should not
change; a retrace among them shows in the traces column, not in it).

Configs (as shipped, B and T theirs): catch (`make run`'s agent: FtwTorso,
RPTH with a DNC memory, pixel control, reward prediction), atari (Pong
default: A3C torso, LSTM) and atari_ftw (Pong, the full agent).

Usage: .venv/bin/python bench/startup.py [--configs catch,atari,atari_ftw]
"""

import ftw  # noqa: F401  (first: quiets TensorFlow's start-up log)

import argparse
import importlib
import json
import os
import subprocess
import sys
import time

import numpy as np

import _common

VARIANTS = ("before", "step0", "now")


def _step0_outside_loop(dynamic_unroll):
  """The unroll as it was: step 0 traced outside the loop, T - 1 steps in it."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top

  def unroll_fn(core, input_sequence, initial_state, **kwargs):
    if tf.nest.flatten(input_sequence)[0].shape[0] == 1:
      return dynamic_unroll(core, input_sequence, initial_state, **kwargs)
    first, state = core(tf.nest.map_structure(lambda x: x[0], input_sequence),
                        initial_state)
    rest, final_state = dynamic_unroll(
        core, tf.nest.map_structure(lambda x: x[1:], input_sequence), state,
        **kwargs)
    return tf.nest.map_structure(
        lambda a, b: tf.concat([a[None], b], 0), first, rest), final_state
  return unroll_fn


def measure(config_name: str, variant: str, steady_steps: int) -> dict:
  """Runs in a child process: the timings of one config and variant."""
  import reverb  # pylint: disable=g-import-not-at-top
  import sonnet as snt  # pylint: disable=g-import-not-at-top
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from agents.ftw.builder import FtwBuilder  # pylint: disable=g-import-not-at-top
  from ftw import environment_loop  # pylint: disable=g-import-not-at-top
  from ftw import replay  # pylint: disable=g-import-not-at-top
  from ftw.tf.networks import unroll  # pylint: disable=g-import-not-at-top

  if variant == "before":
    unroll.dynamic_unroll = snt.dynamic_unroll  # ftw_network calls it so.
  if variant == "step0":
    unroll.dynamic_unroll = _step0_outside_loop(unroll.dynamic_unroll)
  config = importlib.import_module(f"configs.{config_name}").get_config()
  builder = FtwBuilder(config)
  server = reverb.Server(builder.make_replay_tables(), port=None)
  address = f"localhost:{server.port}"
  client = reverb.Client(address)
  env = builder.make_environment(seed=0)
  adder = builder.make_adder(client)
  times = {}
  try:
    start = time.perf_counter()
    actor = builder.make_actor(builder.make_network(), adder=adder)
    # pylint: disable=protected-access
    if variant == "before":
      actor._policy = tf.function(actor._policy_step, reduce_retracing=True)
    loop = environment_loop.EnvironmentLoop(env, actor)
    loop.step()
    times["actor first step s"] = time.perf_counter() - start

    def fill():
      # As full as the queue goes without blocking the adder (one vector
      # step may complete an item per environment).
      target = config.queue_size - config.num_envs
      while client.server_info()[replay.SEQUENCE_TABLE].current_size < target:
        loop.step()

    start = time.perf_counter()
    fill()
    times["fill s"] = time.perf_counter() - start

    learner = builder.make_learner(builder.make_network(), address)
    if variant == "before":
      learner._step_fn = tf.function(learner._step,
                                     jit_compile=config.jit_compile)

    def timed_step():
      fill()  # Not timed: the learner then never waits for items.
      start = time.perf_counter()
      learner.step()
      return time.perf_counter() - start

    times["learner first step s"] = timed_step()
    times["learner second step s"] = timed_step()
    # The median: a retrace among them (e.g. when reward prediction starts)
    # is start-up, not the update's steady cost.
    times["learner steady ms"] = 1000 * float(np.median(
        [timed_step() for _ in range(steady_steps)]))
    times["learner traces"] = learner._step_fn.experimental_get_tracing_count()
    # pylint: enable=protected-access
  finally:
    adder.close()
    env.close()
    server.stop()
  return times


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--configs", default="catch,atari,atari_ftw")
  parser.add_argument("--variants", default=",".join(VARIANTS),
                      help=f"a subset of {','.join(VARIANTS)}")
  parser.add_argument("--steady_steps", type=int, default=10,
                      help="learner steps timed after the first two")
  parser.add_argument("--child", nargs=2, metavar=("CONFIG", "VARIANT"),
                      help=argparse.SUPPRESS)
  args = parser.parse_args()
  unknown = set(args.variants.split(",")) - set(VARIANTS)
  if unknown:
    parser.error(f"--variants: unknown {sorted(unknown)}; "
                 f"expected a subset of {','.join(VARIANTS)}")
  if args.child:
    print("RESULT " + json.dumps(measure(*args.child, args.steady_steps)),
          flush=True)
    return

  print(_common.load_line("start"), flush=True)
  here = os.path.dirname(os.path.abspath(__file__))
  env = {**os.environ,
         "PYTHONPATH": os.pathsep.join([os.path.dirname(here), here,
                                        os.environ.get("PYTHONPATH", "")])}
  results = {}
  for config_name in args.configs.split(","):
    for variant in args.variants.split(","):
      started = time.perf_counter()
      out = subprocess.run(
          [sys.executable, __file__, "--child", config_name, variant,
           f"--steady_steps={args.steady_steps}"],
          capture_output=True, text=True, env=env, check=False)
      lines = [l for l in out.stdout.splitlines() if l.startswith("RESULT ")]
      if out.returncode != 0 or not lines:
        sys.exit(f"{config_name} {variant} failed:\n{out.stderr[-3000:]}")
      results[(config_name, variant)] = json.loads(lines[-1][7:])
      results[(config_name, variant)]["process s"] = (
          time.perf_counter() - started)
      print(f"{config_name} {variant}: {results[(config_name, variant)]}",
            flush=True)

  keys = ("actor first step s", "learner first step s",
          "learner second step s", "learner steady ms", "process s")
  rows = []
  for (config_name, variant), r in results.items():
    base = results.get((config_name, "before"),
                       results[(config_name, args.variants.split(",")[0])])
    rows.append([f"{config_name} {variant}",
                 *[f"{r[k]:.2f}" for k in keys],
                 f"{base['learner first step s'] / r['learner first step s']:.2f}x",
                 str(r["learner traces"])])
  print("\nSeconds (lower is better); process = the child's whole run "
        "(imports, environments, fill); speed-up = the learner's first "
        "step, before (or the first variant run) / this row")
  print(_common.format_table(
      ["config variant", "actor 1st step", "learner 1st step",
       "learner 2nd step", "steady ms/step", "process", "speed-up",
       "traces"], rows))
  print("\n" + _common.load_line("end"))


if __name__ == "__main__":
  main()
