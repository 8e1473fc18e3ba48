"""One progress line for the terminal: steps, rates, returns and ETA."""

import time
from typing import Dict, List, Optional

import numpy as np

from agents.ftw.config import FtwConfig
from ftw.utils import counting


class Progress:
  """Prints `[progress] ...` at most every `config.log_every_seconds`."""

  def __init__(self, config: FtwConfig, counter: counting.Counter,
               start_counts: Dict[str, float]):
    self._config = config
    self._counter = counter
    self._start = time.monotonic()
    self._start_counts = dict(start_counts)
    self._last_print = -float("inf")
    self._actor_rate = counting.StepsPerSecond()
    self._learner_rate = counting.StepsPerSecond()

  def _eta(self, counts: Dict[str, float], elapsed: float) -> Optional[float]:
    """Seconds left under the tightest limit, or None without limits."""
    config, etas = self._config, []
    if config.max_seconds is not None:
      etas.append(config.max_seconds - elapsed)
    for key, limit in (("actor_steps", config.max_actor_steps),
                       ("learner_steps", config.max_learner_steps)):
      done = counts.get(key, 0) - self._start_counts.get(key, 0)
      if limit is not None and done > 0:
        etas.append((limit - counts.get(key, 0)) * elapsed / done)
    return max(0.0, min(etas)) if etas else None

  def maybe_print(self, recent_returns: List[float],
                  eval_return: Optional[float], force: bool = False):
    now = time.monotonic()
    if not force and now - self._last_print < self._config.log_every_seconds:
      return
    self._last_print = now
    counts = self._counter.get_counts()
    elapsed = now - self._start
    actor_steps = counts.get("actor_steps", 0)
    learner_steps = counts.get("learner_steps", 0)
    parts = [
        f"{elapsed / 60:5.1f} min",
        f"actor steps {actor_steps:,} ({self._actor_rate(actor_steps):,.0f}/s)",
        f"learner steps {learner_steps:,} "
        f"({self._learner_rate(learner_steps):.1f}/s)",
        f"episodes {counts.get('actor_episodes', 0):,}",
    ]
    if recent_returns:
      parts.append(f"return(last {len(recent_returns)}) "
                   f"{np.mean(recent_returns):+.3f}")
    if eval_return is not None:
      parts.append(f"eval {eval_return:+.3f}")
    eta = self._eta(counts, elapsed)
    if eta is not None:
      parts.append(f"ETA {eta / 60:.1f} min")
    print("[progress] " + " | ".join(parts), flush=True)
