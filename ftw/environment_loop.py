"""EnvironmentLoop: runs an actor in a vector of environments.

Acme's loop steps one environment and counts one episode at a time; ftw's
actors step N environments at once (`ftw.envs.VectorEnv`, with automatic
resets), so this loop keeps per-environment returns and lengths and reports
every episode that ends, in any row, when it ends.
"""

from typing import Callable, Dict, List, Optional

import dm_env
import numpy as np

from ftw import core
from ftw.utils import counting
from ftw.utils import loggers as loggers_lib


class EnvironmentLoop:
  """Steps a batched actor; counts steps and episodes; logs returns."""

  def __init__(self, environment, actor: core.Actor,
               counter: Optional[counting.Counter] = None,
               logger: Optional[loggers_lib.Logger] = None,
               label: str = "actor", update_actor: bool = True,
               return_window: int = 100):
    self._env = environment
    self._actor = actor
    self._counter = counter or counting.Counter()
    self._logger = logger
    self._label = label
    self._update_actor = update_actor
    n = environment.num_envs
    self._returns = np.zeros(n, np.float64)
    self._lengths = np.zeros(n, np.int64)
    self._recent: List[float] = []
    self._window = return_window
    self._timestep: Optional[dm_env.TimeStep] = None
    self._rate = counting.StepsPerSecond()
    # A team game rewards event vectors; returns are of the game's reward.
    self._game_reward = getattr(environment, "game_reward", None)

  def _rewards(self, timestep: dm_env.TimeStep) -> np.ndarray:
    """[N] rewards the returns add up (the game's, for an event reward)."""
    reward = np.asarray(timestep.reward)
    return reward if self._game_reward is None else self._game_reward(reward)

  @property
  def recent_returns(self) -> List[float]:
    return list(self._recent)

  def _start(self):
    self._timestep = self._env.reset()
    self._actor.observe_first(self._timestep)
    self._returns[:] = 0
    self._lengths[:] = 0

  def step(self) -> List[Dict[str, float]]:
    """One vector step; returns the results of episodes that ended in it."""
    if self._timestep is None:
      self._start()
    actions = self._actor.select_action(self._timestep.observation)
    timestep = self._env.step(actions)
    self._actor.observe(actions, timestep)
    if self._update_actor:
      self._actor.update()
    first = np.asarray(timestep.step_type) == int(dm_env.StepType.FIRST)
    last = np.asarray(timestep.step_type) == int(dm_env.StepType.LAST)
    stepped = ~first  # A FIRST row was a reset: no action took effect.
    self._returns[stepped] += self._rewards(timestep)[stepped]
    self._lengths[stepped] += 1
    results = []
    for i in np.flatnonzero(last):
      results.append({"episode_return": float(self._returns[i]),
                      "episode_length": int(self._lengths[i])})
      self._recent.append(float(self._returns[i]))
    self._recent = self._recent[-self._window:]
    self._returns[last] = 0
    self._lengths[last] = 0
    counts = self._counter.increment(
        steps=int(stepped.sum()), episodes=len(results))
    self._timestep = timestep
    if results and self._logger is not None:
      steps_key = f"{self._label}_steps"
      self._logger.write({
          "episode_return": float(np.mean([r["episode_return"]
                                           for r in results])),
          "episode_length": float(np.mean([r["episode_length"]
                                           for r in results])),
          "mean_return_recent": float(np.mean(self._recent)),
          "steps_per_second": self._rate(counts.get(steps_key, 0)),
          **counts})
    return results

  def run(self, num_steps: Optional[int] = None,
          should_stop: Callable[[], bool] = lambda: False):
    """Steps until num_steps vector steps are done or should_stop() is True."""
    i = 0
    while (num_steps is None or i < num_steps) and not should_stop():
      self.step()
      i += 1

  def run_episodes(self, num_episodes: int,
                   should_stop: Callable[[], bool] = lambda: False
                   ) -> List[Dict[str, float]]:
    """Runs until num_episodes episodes ended (fresh start, for evaluation).

    Only the first episode of each environment row counts, so that short
    episodes do not dominate the estimate. When `should_stop()` turns True
    before that, it returns the episodes that ended so far (fewer than
    num_episodes): a stop request need not wait for a long game to end.
    """
    if num_episodes <= 0:
      raise ValueError(f"num_episodes must be > 0, got {num_episodes}")
    self._start()
    done = np.zeros(self._env.num_envs, bool)
    results: List[Dict[str, float]] = []
    while len(results) < num_episodes and not should_stop():
      actions = self._actor.select_action(self._timestep.observation)
      timestep = self._env.step(actions)
      self._actor.observe(actions, timestep)
      first = np.asarray(timestep.step_type) == int(dm_env.StepType.FIRST)
      last = np.asarray(timestep.step_type) == int(dm_env.StepType.LAST)
      stepped = ~first
      self._returns[stepped] += self._rewards(timestep)[stepped]
      self._lengths[stepped] += 1
      for i in np.flatnonzero(last & ~done):
        if len(results) < num_episodes:
          results.append({"episode_return": float(self._returns[i]),
                          "episode_length": int(self._lengths[i])})
      done |= last
      if done.all() and len(results) < num_episodes:
        done[:] = False  # More episodes wanted than rows: go another round.
      self._returns[last] = 0
      self._lengths[last] = 0
      self._timestep = timestep
    self._timestep = None
    return results
