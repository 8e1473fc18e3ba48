"""Evaluation of a trained population: every agent against random players.

The population's Elo says how agents compare with each other; it cannot
say whether any of them plays the game. This plays each agent's latest
checkpoint (`<logdir>/agent_<i>/checkpoints`) with `TeamGameEvaluator`:
`episodes` episodes against a team of uniformly random players and as many
against an untrained network of the same architecture, and writes one row
per agent and opponent to `<logdir>/population/final_eval.csv` (columns
`agent`, `opponent`, `win_rate`, `draw_rate`, `loss_rate`, `team_score`,
`opponent_score`, `episode_return`, `episodes`, `event_<name>`...).
"""

import csv
import os
from typing import Dict, List, Optional, Sequence

import tensorflow as tf

from agents.ftw.team_evaluator import TeamGameEvaluator
from ftw import core
from ftw.utils import checkpointing

FINAL_EVAL = os.path.join("population", "final_eval.csv")


class _NetworkSource(core.VariableSource):
  """Serves one network's variables (a restored checkpoint's)."""

  def __init__(self, network):
    self._network = network

  def get_variables(self, names: Sequence[str]):
    values = [v.numpy() for v in self._network.variables]
    return [values for _ in names]


def restore_agent_network(builder, logdir: str, agent: int):
  """The network of agent `agent`'s latest checkpoint (weights, period and
  internal reward weights as trained).

  Raises:
    FileNotFoundError: the agent has no checkpoint in `logdir`.
  """
  folder = os.path.join(logdir, f"agent_{agent}",
                        checkpointing.CHECKPOINT_FOLDER)
  latest = tf.train.latest_checkpoint(folder)
  if latest is None:
    raise FileNotFoundError(f"no checkpoint of agent {agent} in {folder}")
  network = builder.make_network(variable_period=True)
  # Only the network: the optimiser and the rest of the learner stay behind.
  tf.train.Checkpoint(network=network).restore(latest).expect_partial()
  return network


def evaluate_population(builder, logdir: str, num_agents: int,
                        episodes: Optional[int] = None
                        ) -> List[Dict[str, float]]:
  """Evaluates agents 0..num_agents-1; writes and returns the rows."""
  if episodes is not None:
    builder = type(builder)(builder.config.replace(eval_episodes=episodes),
                            builder.specs)
  rows = []
  for agent in range(num_agents):
    network = restore_agent_network(builder, logdir, agent)
    evaluator = TeamGameEvaluator(builder, _NetworkSource(network),
                                  variable_period=True)
    for row in evaluator.evaluate():
      rows.append({"agent": agent, **row})
    evaluator.env.close()
  path = os.path.join(logdir, FINAL_EVAL)
  os.makedirs(os.path.dirname(path), exist_ok=True)
  with open(path, "w", newline="") as f:
    writer = csv.DictWriter(f, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
  return rows
