"""When a training job stops: the run limits of `FtwConfig`, in one place."""

from typing import Mapping, Optional

from agents.ftw.config import FtwConfig


def limit_reached(config: FtwConfig, counts: Mapping[str, float],
                  elapsed_seconds: Optional[float] = None) -> Optional[str]:
  """The name of the first limit reached ('max_learner_steps reached', ...),
  or None. `elapsed_seconds` None skips the time limit (a learner thread
  checks only the step limits)."""
  if (config.max_learner_steps is not None and
      counts.get("learner_steps", 0) >= config.max_learner_steps):
    return "max_learner_steps reached"
  if (config.max_actor_steps is not None and
      counts.get("actor_steps", 0) >= config.max_actor_steps):
    return "max_actor_steps reached"
  if (config.max_seconds is not None and elapsed_seconds is not None and
      elapsed_seconds >= config.max_seconds):
    return "max_seconds reached"
  return None
