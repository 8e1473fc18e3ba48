"""The "running" part every agent's config shares: seed, limits, cadences.

`RunningConfig` is a base dataclass: each agent's config inherits these
fields (overriding a default where it differs, e.g. DPG's eval_episodes) and
calls `check_running()` from its `__post_init__`. The launchers
(`agents/ftw/limits.py`, `launch/`) read exactly these names.
"""

import dataclasses
from typing import Optional

from ftw import checks


@dataclasses.dataclass
class RunningConfig:
  """Seed, run limits and the evaluation / checkpoint / log cadence."""

  seed: int = 0
  """Seed of environments, network initialisation and sampling."""
  max_learner_steps: Optional[int] = None
  """Stop after this many learner steps (None: no limit)."""
  max_actor_steps: Optional[int] = None
  """Stop after this many environment steps (None: no limit)."""
  max_seconds: Optional[float] = None
  """Stop after this many seconds (None: no limit)."""
  eval_every_seconds: float = 30.0
  """Seconds between evaluations (greedy / noise-free policy)."""
  eval_episodes: int = 20
  """Episodes per evaluation."""
  checkpoint_every_seconds: float = 300.0
  """Seconds between learner checkpoints (one is also written at exit)."""
  log_every_seconds: float = 10.0
  """Seconds between terminal progress lines."""
  intra_op_threads: int = 0
  """TensorFlow threads sharing one op in the learner's process (0: one per core)."""
  inter_op_threads: int = 0
  """TensorFlow ops run at once in the learner's process (0: one per core)."""

  def check_running(self):
    """Raises ValueError naming the first running field out of range."""
    checks.check_positive_int("eval_episodes", self.eval_episodes)
    checks.check_int("intra_op_threads", self.intra_op_threads, 0)
    checks.check_int("inter_op_threads", self.inter_op_threads, 0)
    for name in ("max_learner_steps", "max_actor_steps", "max_seconds"):
      value = getattr(self, name)
      if value is not None and not value > 0:
        raise ValueError(f"{name} must be > 0 or None (no limit), got {value}")
    for name in ("eval_every_seconds", "checkpoint_every_seconds"):
      if not getattr(self, name) > 0:
        raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
    if not self.log_every_seconds >= 0:
      raise ValueError(
          f"log_every_seconds must be >= 0, got {self.log_every_seconds}")
