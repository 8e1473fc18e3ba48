"""The greedy evaluation of the FTW agent, as every launcher runs it.

One home for the evaluation policy: its own environments (seeds from
`seed + EVAL_SEED_OFFSET`, so they never replay the training streams), one
row per environment up to `MAX_EVAL_ENVS`, a greedy actor with exactly that
many rows, and the first `eval_episodes` episodes' mean return. Team games
have their own (`team_evaluator.py`); `make_evaluator` picks.
"""

from typing import Callable, Dict, List

from ftw import core
from ftw import environment_loop

EVAL_SEED_OFFSET = 10_000
MAX_EVAL_ENVS = 32


class Evaluator:
  """Plays `config.eval_episodes` greedy episodes with the latest weights."""

  def __init__(self, builder, variable_source: core.VariableSource):
    config = builder.config
    self._episodes = config.eval_episodes
    self.env = builder.make_environment(
        seed=config.seed + EVAL_SEED_OFFSET,
        num_envs=min(config.eval_episodes, MAX_EVAL_ENVS),
        processes=0)  # Plays now and then: its own thread is enough.
    self.actor = builder.make_actor(
        builder.make_network(), variable_source=variable_source, greedy=True,
        num_envs=self.env.num_envs)
    self._loop = environment_loop.EnvironmentLoop(self.env, self.actor,
                                                  update_actor=False)

  def update(self, wait: bool = True) -> None:
    """Fetches the latest weights (raises if the source has none yet)."""
    self.actor.update(wait=wait)

  def evaluate(self, should_stop: Callable[[], bool] = lambda: False
               ) -> List[Dict[str, float]]:
    """Latest weights, then the episodes: one row, mean return and length.

    No rows (an empty list) when `should_stop()` turned True before every
    episode ended.
    """
    self.update()
    results = self._loop.run_episodes(self._episodes, should_stop)
    if len(results) < self._episodes:
      return []
    return [{
        "episode_return": sum(r["episode_return"] for r in results)
                          / len(results),
        "episode_length": sum(r["episode_length"] for r in results)
                          / len(results),
        "episodes": len(results)}]


def make_evaluator(builder, variable_source: core.VariableSource):
  """The evaluator of the builder's environment: `Evaluator`, or for a team
  game `TeamGameEvaluator` (against random players and a checkpoint).

  Both have `update()` and `evaluate(should_stop)`, which returns a list of
  log rows, each with an `episode_return` (the launchers' progress line
  shows the first row's), or no rows when stopped before the end.
  """
  if builder.team_game:
    from agents.ftw.team_evaluator import TeamGameEvaluator  # pylint: disable=g-import-not-at-top
    return TeamGameEvaluator(builder, variable_source)
  return Evaluator(builder, variable_source)
