"""Seeded sampling inside a traced function, without the global seed.

`tf.random.set_seed` also clears the eager context's kernel cache: every
tf.function the process has already traced (a learner's step, another
actor's policy) is instantiated again at its next call — a stall of seconds
per learner — and the process's other random streams restart. An actor
created after training started (a population actor's per-agent actors, an
evaluator) must not do that to seed its sampling.

`seed_graph` seeds the graph being traced instead: the random ops traced
after it take their op seeds from that graph, and each new function has
fresh kernels, so a function seeded with the same seed draws the same
stream, and nothing outside it changes.
"""

from typing import Optional

import tensorflow as tf


def seed_graph(seed: Optional[int]) -> None:
  """Seeds the random ops traced after this call in the current function.

  Call it first in a function passed to tf.function: its sampling ops are
  then reproducible for `seed` without touching the global seed. A no-op
  for `seed=None` (unseeded sampling) and in eager mode.
  """
  if seed is None or tf.executing_eagerly():
    return
  if not isinstance(seed, int) or isinstance(seed, bool):
    raise TypeError(f"seed must be an int, got {seed!r}")
  tf.compat.v1.set_random_seed(seed)
