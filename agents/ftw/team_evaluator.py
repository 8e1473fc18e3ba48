"""Evaluation of a team-game agent: its team against other players.

A user of FTW watches two curves: how the agent does against a team of
uniformly random players (can it play the game at all?) and against an
earlier version of itself (is it still improving?). Each evaluation plays
both, `eval_episodes` episodes each, in its own arenas (seeds from
`seed + EVAL_SEED_OFFSET`), and returns one row per opponent:

  opponent         'random' or 'checkpoint' (the weights of the previous
                   evaluation; at the first, the initial weights);
  win_rate, draw_rate, loss_rate   fractions of episodes;
  team_score, opponent_score       captures per episode, means;
  event_<name>     count per player of the agent's team per episode, mean,
                   for every game event (`ftw.envs.ctf_events.EVENT_NAMES`);
  episode_return   team_score - opponent_score;
  episodes         episodes played.

The agent plays team 0 in even arenas and team 1 in odd ones (the map has
two sides); it samples from its policy (as in training). All slots of an
arena go through the agent's network in one call; the opponent's slots then
take the opponent's actions instead.
"""

from typing import Callable, Dict, List

import numpy as np

from agents.ftw.evaluator import EVAL_SEED_OFFSET, MAX_EVAL_ENVS
from ftw import core
from ftw.envs import ctf_events

OPPONENTS = ("random", "checkpoint")


class TeamGameEvaluator:
  """Plays the latest weights against random players and a checkpoint."""

  def __init__(self, builder, variable_source: core.VariableSource,
               variable_period: bool = False):
    """Builds arenas and networks.

    Args:
      builder: the agent's builder.
      variable_source: serves the agent's latest weights.
      variable_period: build networks as a population's agents are
        (RPTH's period a variable, see `FtwBuilder.make_network`), so the
        source's variables line up with them.
    """
    config = builder.config
    self._episodes = config.eval_episodes
    self.env = builder.make_environment(
        seed=config.seed + EVAL_SEED_OFFSET,
        num_envs=min(config.eval_episodes, MAX_EVAL_ENVS))
    n = self.env.num_envs
    self._network = builder.make_network(variable_period=variable_period)
    self.actor = builder.make_actor(self._network,
                                    variable_source=variable_source,
                                    num_envs=n)
    self._opponent_network = builder.make_network(
        variable_period=variable_period)
    self._opponent = builder.make_actor(self._opponent_network, num_envs=n)
    self._snapshot = None  # Weights the checkpoint opponent plays next.
    self._action_spec = self.env.action_spec()
    self._rng = np.random.default_rng(config.seed + EVAL_SEED_OFFSET)
    players = self.env.num_players
    arena = np.repeat(np.arange(self.env.num_arenas), players)
    # The agent's team in each arena alternates sides.
    self._agent_team = arena % 2
    self._teams = self.env.teams  # [N], fixed for the arenas' lifetime.
    self._opponent_rows = self._teams != self._agent_team

  def update(self, wait: bool = True) -> None:
    """Fetches the latest weights (raises if the source has none yet)."""
    self.actor.update(wait=wait)

  def _random_actions(self) -> np.ndarray:
    spec = self._action_spec
    n = self.env.num_envs
    if hasattr(spec, "num_values"):
      return self._rng.integers(0, spec.num_values, n).astype(np.int32)
    high = np.asarray(spec.maximum) + 1
    return self._rng.integers(0, high, (n, *spec.shape)).astype(np.int32)

  def _play(self, opponent: str, should_stop: Callable[[], bool]
            ) -> List[ctf_events.Outcome]:
    """Plays until `eval_episodes` episodes ended (or should_stop());
    their (arena, outcome)."""
    env, actor = self.env, self.actor
    timestep = env.reset()
    env.pop_outcomes()
    actor.observe_first(timestep)
    if opponent == "checkpoint":
      self._opponent.observe_first(timestep)
    outcomes = []
    while len(outcomes) < self._episodes and not should_stop():
      actions = actor.select_action(timestep.observation)
      if opponent == "random":
        other = self._random_actions()
      else:
        other = self._opponent.select_action(timestep.observation)
      actions[self._opponent_rows] = other[self._opponent_rows]
      timestep = env.step(actions)
      actor.observe(actions, timestep)
      if opponent == "checkpoint":
        self._opponent.observe(actions, timestep)
      outcomes.extend(env.pop_outcomes())
    return outcomes[:self._episodes]

  def _row(self, opponent: str, outcomes) -> Dict[str, float]:
    players = self.env.num_players
    wins = draws = 0
    scores, opponent_scores, events = [], [], []
    for arena, outcome in outcomes:
      team = arena % 2
      mine, theirs = outcome.team_scores[team], outcome.team_scores[1 - team]
      wins += mine > theirs
      draws += mine == theirs
      scores.append(mine)
      opponent_scores.append(theirs)
      teams = self._teams[arena * players:(arena + 1) * players]
      events.append(outcome.event_counts[teams == team].mean(axis=0))
    n = len(outcomes)
    row = {"opponent": opponent,
           # The game's return of the agent's players (captures made minus
           # conceded), the figure the launchers' progress line shows.
           "episode_return": float(np.mean(scores) - np.mean(opponent_scores)),
           "win_rate": wins / n, "draw_rate": draws / n,
           "loss_rate": (n - wins - draws) / n,
           "team_score": float(np.mean(scores)),
           "opponent_score": float(np.mean(opponent_scores)),
           "episodes": n}
    mean_events = np.mean(events, axis=0)
    for name, value in zip(ctf_events.EVENT_NAMES, mean_events):
      row[f"event_{name}"] = float(value)
    return row

  def evaluate(self, should_stop: Callable[[], bool] = lambda: False
               ) -> List[Dict[str, float]]:
    """Latest weights, then one row per opponent (see the module doc); no
    rows when `should_stop()` turned True before the games ended."""
    self.update()
    latest = [v.numpy() for v in self._network.variables]
    if self._snapshot is None:
      self._snapshot = [v.numpy() for v in self._opponent_network.variables]
    for variable, value in zip(self._opponent_network.variables,
                               self._snapshot):
      variable.assign(value)
    rows = []
    for name in OPPONENTS:
      outcomes = self._play(name, should_stop)
      if len(outcomes) < self._episodes:
        return []  # Stopped: the checkpoint opponent stays as it was.
      rows.append(self._row(name, outcomes))
    self._snapshot = latest
    return rows
