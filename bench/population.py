"""Population throughput beside single-agent self-play, in the same run.

Part 1, actors (one process): player-steps/s of
  self-play     `configs/ctf.py`'s actor: every slot of A arenas played by
                one FtwNetwork, one batched call per step, one adder;
  population    the population actor (`agents/ftw/population_actor.py`):
                the same arenas, P agents' networks, each slot played by the
                agent the matchmaking put there (one call per agent in play
                per step, over its slots), one adder per agent and round;
both writing to real Reverb servers (queues large enough never to block),
alternating, whole rounds of `--episode_length`-frame episodes.

Part 2, jobs (`--job_seconds S`, S > 0): `launch.distributed` with
`configs/ctf.py` and `launch.population` with `configs/ctf_population.py`
(P agents), one actor each, S seconds each, one after the other; the
player-steps/s between the first poll that saw steps and the end (start-up
excluded). Learners share the cores with the actors here, so this is the
rate a user sees on this machine.

Usage: .venv/bin/python bench/population.py [--population 4] [--arenas 8]
       [--episode_length 200] [--rounds 2] [--job_seconds 0]
"""

import ftw  # noqa: F401  (first: quiets TensorFlow's start-up log)

import argparse
import tempfile
import time

import numpy as np

import _common


def _config(arenas: int, episode_length: int):
  from configs import ctf as ctf_config  # pylint: disable=g-import-not-at-top
  config = ctf_config.get_config()
  kwargs = dict(config.environment_kwargs, episode_length=episode_length)
  return config.replace(num_envs=arenas, queue_size=100_000,
                        environment_kwargs=kwargs)


def _self_play_round(adder, env, actor):
  adder.reset()  # The streams auto-reset; a new round starts them afresh.
  timestep = env.reset()
  actor.observe_first(timestep)
  steps = 0
  while True:
    action = actor.select_action(timestep.observation)
    timestep = env.step(action)
    actor.observe(action, timestep)
    steps += env.num_envs
    if timestep.step_type[0] == 2:  # LAST: every arena ends together.
      return steps


def actors(population: int, arenas: int, episode_length: int, rounds: int):
  """(name, player-steps/s per round) of the two actors, alternating."""
  import reverb  # pylint: disable=g-import-not-at-top
  from agents.ftw.builder import FtwBuilder  # pylint: disable=g-import-not-at-top
  from agents.ftw.population_actor import PopulationActor  # pylint: disable=g-import-not-at-top
  from ftw.population import elo, matchmaking  # pylint: disable=g-import-not-at-top
  builder = FtwBuilder(_config(arenas, episode_length))
  env = builder.make_environment(seed=0)
  servers = [reverb.Server(builder.make_replay_tables(), port=None)
             for _ in range(population + 1)]
  clients = [reverb.Client(f"localhost:{s.port}") for s in servers]
  solo_adder = builder.make_adder(clients[-1])
  solo = builder.make_actor(builder.make_network(), adder=solo_adder)
  networks = [builder.make_network(variable_period=True, seed=i)
              for i in range(population)]
  players = env.num_players
  maker = matchmaking.Matchmaker(elo.EloTable(population), players // 2,
                                 rng=np.random.default_rng(0))
  pop = PopulationActor(env, networks,
                        make_adder=lambda k, n: builder.make_adder(
                            clients[k], num_envs=n),
                        next_matches=maker.matches,
                        report=lambda *args: None)
  # Warm-up round each (traces; the population actor's per-agent batch
  # sizes settle into one relaxed trace after two sizes).
  _self_play_round(solo_adder, env, solo)
  pop.run_round()
  pop.run_round()
  rates = {"self-play": [], "population": []}
  for _ in range(rounds):
    start = time.perf_counter()
    steps = _self_play_round(solo_adder, env, solo)
    rates["self-play"].append(steps / (time.perf_counter() - start))
    result = pop.run_round()
    rates["population"].append(result["steps"] / result["seconds"])
  solo_adder.close(timeout_ms=100)
  env.close()
  for server in servers:
    server.stop()
  return rates


def _job_rate(run, seconds: float) -> float:
  """Player-steps/s of a launcher's run after its first counted steps."""
  polls = []

  def on_poll(job):
    polls.append((time.monotonic(), job.counts.get("actor_steps", 0)))
    return polls[-1][0] - polls[0][0] >= seconds
  run(on_poll)
  started = [(t, s) for t, s in polls if s > 0]
  if len(started) < 2:
    return float("nan")
  (t0, s0), (t1, s1) = started[0], started[-1]
  return (s1 - s0) / max(t1 - t0, 1e-9)


def jobs(population: int, seconds: float):
  from configs import ctf as ctf_config  # pylint: disable=g-import-not-at-top
  from configs import ctf_population  # pylint: disable=g-import-not-at-top
  from launch import distributed  # pylint: disable=g-import-not-at-top
  from launch import population as population_launch  # pylint: disable=g-import-not-at-top
  single = ctf_config.get_config().replace(eval_every_seconds=3600.0)
  rates = {}
  with tempfile.TemporaryDirectory() as logdir:
    rates["self-play job (launch.distributed)"] = _job_rate(
        lambda on_poll: distributed.train(single, logdir + "/single", 1,
                                          on_poll=on_poll), seconds)
    pop_config = ctf_population.get_population_config().replace(
        population_size=population)
    rates[f"population job, P={population} (launch.population)"] = _job_rate(
        lambda on_poll: population_launch.train(
            ctf_population.get_config(), pop_config, logdir + "/pop", 1,
            on_poll=on_poll, poll_seconds=1.0), seconds)
  return rates


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--population", type=int, default=4)
  parser.add_argument("--arenas", type=int, default=8)
  parser.add_argument("--episode_length", type=int, default=200)
  parser.add_argument("--rounds", type=int, default=2)
  parser.add_argument("--job_seconds", type=float, default=0.0)
  args = parser.parse_args()
  print(_common.load_line("start"), flush=True)
  rates = actors(args.population, args.arenas, args.episode_length,
                 args.rounds)
  base = float(np.median(rates["self-play"]))
  rows = [[name, " ".join(f"{r:,.0f}" for r in values),
           f"{np.median(values):,.0f}", f"{np.median(values) / base:.2f}x"]
          for name, values in rates.items()]
  print(f"\nActors: {args.arenas} arenas x 4 players, "
        f"{args.episode_length}-frame rounds, P={args.population} "
        f"(player-steps/s per round, median, vs self-play)")
  print(_common.format_table(["actor", "rounds", "median", "ratio"], rows))
  if args.job_seconds > 0:
    job_rates = jobs(args.population, args.job_seconds)
    base = next(iter(job_rates.values()))
    print(f"\nJobs, {args.job_seconds:.0f} s each (player-steps/s after "
          f"start-up, learners sharing the cores)")
    print(_common.format_table(
        ["job", "player-steps/s", "ratio"],
        [[name, f"{r:,.0f}", f"{r / base:.2f}x"]
         for name, r in job_rates.items()]))
  print(_common.load_line("end"), flush=True)


if __name__ == "__main__":
  main()
