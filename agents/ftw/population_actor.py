"""Plays team-game matches whose player slots belong to different agents.

An FTW population actor steps A arenas of P players as N = A * P slots,
like the self-play actor, but the players are agents of a population: every
round the population's matchmaking names the agents of each arena's two
teams, and each slot is played by its agent's network. Per step there is
one network call per agent in play, batched over that agent's slots (its
`FtwActor` takes any number of rows), and each slot's trajectory goes to
the adder of the agent that played it, so an agent's replay only ever holds
its own experience (architecture notes: "each slot's trajectory goes to the
tables of the agent that played it").

A round is one episode in every arena. Matches need a fixed episode length
(Capture the Flag has one): every arena ends on the same step, then the
outcomes are reported (team A's score: 1 win, 0.5 draw, 0 loss) and the
next round's matches are asked for.
"""

import logging
import time
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import dm_env
import numpy as np
import tree

from agents.ftw.actor import FtwActor
from ftw.population import matchmaking

_log = logging.getLogger(__name__)

Match = Tuple[Tuple[int, ...], Tuple[int, ...]]
"""(agents of team A, agents of team B); team A plays team 0 (red)."""


def _rows(nest, rows: np.ndarray):
  return tree.map_structure(lambda x: np.asarray(x)[rows], nest)


def score_of_team_a(team_scores) -> float:
  """1 (team A = team 0 won), 0.5 (draw) or 0 (lost) from [2] scores."""
  red, blue = (float(s) for s in team_scores)
  return 1.0 if red > blue else 0.5 if red == blue else 0.0


class PopulationActor:
  """Plays rounds of matches between a population's agents (see above)."""

  def __init__(self, env, networks: Sequence, make_adder: Callable,
               next_matches: Callable[[int], List[Match]],
               report: Callable[[Match, float, np.ndarray], None],
               variable_clients: Optional[Sequence] = None,
               counter=None, seed: Optional[int] = None):
    """Creates the actor.

    Args:
      env: a `CtfSlots` (A arenas of P players, fixed episode length).
      networks: the FtwNetwork of every agent, indexed by agent id.
      make_adder: (agent id, rows) -> an adder writing to that agent's
        replay, or None to write nothing; called once per agent per round.
      next_matches: n -> n matches (one per arena).
      report: called per arena with (match, score of team A, the episode's
        event counts [P, E] of team A's slots then team B's).
      variable_clients: per agent, a VariableClient of its network (or None);
        updated every step for the agents in play.
      counter: a `counting.Counter` (e.g. prefix 'actor'): `steps` (player
        steps) every step, `episodes` (matches) after each round.
      seed: seeds agent k's sampling with seed + k (None: unseeded).
    """
    if not networks:
      raise ValueError("networks must name at least one agent's network")
    self._env = env
    self._players = env.num_players
    if self._players % 2:
      raise ValueError(f"a match needs two equal teams, got "
                       f"{self._players} players per arena")
    self._actors = [
        FtwActor(net, 1, seed=None if seed is None else seed + k)
        for k, net in enumerate(networks)]
    self._make_adder = make_adder
    self._next_matches = next_matches
    self._report = report
    self._clients = list(variable_clients or [None] * len(networks))
    if len(self._clients) != len(networks):
      raise ValueError(f"variable_clients must have one entry per agent "
                       f"({len(networks)}), got {len(self._clients)}")
    self._counter = counter
    self.rounds = 0

  def _assign(self, matches: Sequence[Match]) -> np.ndarray:
    """Agent id [N] of every slot for one match per arena."""
    if len(matches) != self._env.num_arenas:
      raise ValueError(f"next_matches gave {len(matches)} matches for "
                       f"{self._env.num_arenas} arenas")
    slots = []
    for arena, match in zip(self._env.arenas, matches):
      agents = matchmaking.slot_assignment(match, arena.teams)
      slots.append(np.asarray(agents, np.int64))
    agent_of_slot = np.concatenate(slots)
    bad = (agent_of_slot < 0) | (agent_of_slot >= len(self._actors))
    if bad.any():
      raise ValueError(f"matches name agents outside 0..{len(self._actors) - 1}"
                       f": {sorted(set(agent_of_slot[bad].tolist()))}")
    return agent_of_slot

  def run_round(self, should_stop: Callable[[], bool] = lambda: False
                ) -> Optional[Dict[str, object]]:
    """Plays one episode in every arena; returns what happened.

    Args:
      should_stop: checked every step; when it turns True the round is
        abandoned (its unfinished items are dropped, nothing is reported)
        and None is returned.

    Returns:
      dict with `steps` (player steps), `seconds`, `matches`, `scores`
      (team A's score per arena) and `returns` (agent id -> list of the
      game returns of the slots it played).
    """
    started = time.monotonic()
    matches = self._next_matches(self._env.num_arenas)
    agent_of_slot = self._assign(matches)
    groups = {int(k): np.flatnonzero(agent_of_slot == k)
              for k in np.unique(agent_of_slot)}
    adders = {}
    for k, rows in groups.items():
      adders[k] = self._make_adder(k, len(rows))
      self._actors[k].restart(len(rows), adders[k])
    timestep = self._env.reset()
    for k, rows in groups.items():
      self._actors[k].observe_first(_rows(timestep, rows))
    action_shape = tuple(self._env.action_spec().shape)
    game_return = np.zeros(self._env.num_envs)
    steps = 0
    try:
      while True:
        actions = np.zeros((self._env.num_envs,) + action_shape, np.int32)
        for k, rows in groups.items():
          actions[rows] = self._actors[k].select_action(
              _rows(timestep.observation, rows))
        timestep = self._env.step(actions)
        for k, rows in groups.items():
          self._actors[k].observe(actions[rows], _rows(timestep, rows))
          if self._clients[k] is not None:
            self._clients[k].update()
        steps += self._env.num_envs
        if self._counter is not None:
          self._counter.increment(steps=self._env.num_envs)
        game_return += self._env.game_reward(timestep.reward)
        last = np.asarray(timestep.step_type) == int(dm_env.StepType.LAST)
        if should_stop() and not last.all():
          return None
        if last.any():
          if not last.all():
            raise RuntimeError(
                "arenas ended on different steps: population matches need "
                "a fixed episode length")
          break
      # The round's last items wait for room in their tables like any
      # other (closing would drop what a full queue has not taken yet).
      for adder in adders.values():
        if adder is not None:
          adder.flush()
    finally:
      for k, adder in adders.items():
        if adder is None:
          continue
        try:
          adder.close()
        except Exception as e:  # pylint: disable=broad-except
          # A stopped replay server: the round's last items are lost, the
          # actor is stopping or its loop is restarted anyway.
          _log.warning("agent %d's adder did not close: %s", k, e)
    scores = [None] * len(matches)
    for arena, outcome in self._env.pop_outcomes():
      scores[arena] = score_of_team_a(outcome.team_scores)
      teams = np.asarray(self._env.arenas[arena].teams)
      # Team A's slots then team B's, each in slot order, as the match
      # names its agents (`matchmaking.slot_assignment`).
      events = np.concatenate([outcome.event_counts[teams == 0],
                               outcome.event_counts[teams == 1]])
      self._report(matches[arena], scores[arena], events)
    self.rounds += 1
    if self._counter is not None:
      self._counter.increment(episodes=len(matches))
    returns = {k: game_return[rows].tolist() for k, rows in groups.items()}
    return {"steps": steps, "seconds": time.monotonic() - started,
            "matches": list(matches), "scores": scores, "returns": returns}
