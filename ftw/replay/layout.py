"""The replay item layout of the actor-critic agents: its one owner.

An item (see `base.Step` and `sequence_adder`) holds T steps; the actor's
extras of a step are a mapping:

  extras[LOGITS_KEY]      [A] behaviour policy logits at o_t (per step); for
                          a multi-discrete action of G groups (step action
                          int32 [G]) the groups' logits concatenated,
                          A = A_1 + ... + A_G (see `num_logits`);
  extras[CORE_STATE_KEY]  the recurrent state the action at the item's FIRST
                          step was chosen with, stored once per item (no
                          time dimension): the learner unrolls from it;
  extras[NOISE_KEY]       [N] the latent sampling noise of an RPTH core at
                          o_t (per step), so the learner replays the actor's
                          z exactly (only for cores that sample a latent);
  any other key           per-step extras of an agent (kept, never dropped).

Adders, the builder's signature and the learner ask this module; nobody
else spells the keys.
"""

from typing import Any, Dict, Mapping, Sequence, Tuple, Union

import tensorflow as tf

from ftw import checks
from ftw.replay.base import CORE_STATE_KEY

LOGITS_KEY = "logits"
NOISE_KEY = "latent_noise"

__all__ = ("CORE_STATE_KEY", "LOGITS_KEY", "NOISE_KEY", "actor_extras",
           "extras_spec", "num_logits", "split_core_state")


def num_logits(num_actions: Union[int, Sequence[int]]) -> int:
  """Width of the stored logits: A, or A_1 + ... + A_G for G action groups."""
  if isinstance(num_actions, Sequence) and not isinstance(num_actions, str):
    sizes = list(num_actions)
  else:
    sizes = [num_actions]
  if not sizes or not all(checks.is_int(n) and n > 0 for n in sizes):
    raise ValueError("num_actions must be a positive int or a non-empty "
                     "sequence of positive ints (one per action group), got "
                     f"{num_actions!r}")
  return int(sum(sizes))


def actor_extras(logits: Any, core_state: Any, /, **others) -> Dict[str, Any]:
  """The extras an actor hands to its adder for one (vector) step."""
  for key in others:
    if key in (LOGITS_KEY, CORE_STATE_KEY):
      raise ValueError(f"extra {key!r} is reserved by the replay layout")
  return {LOGITS_KEY: logits, CORE_STATE_KEY: core_state, **others}


def extras_spec(num_actions: Union[int, Sequence[int]], core_state_spec: Any,
                **others: tf.TensorSpec) -> Dict[str, Any]:
  """Per-step (unbatched) specs of `actor_extras`, for the table signature.

  `num_actions`: an int, or the sizes of the action groups (multi-discrete).
  """
  return actor_extras(tf.TensorSpec([num_logits(num_actions)], tf.float32),
                      core_state_spec, **others)


def split_core_state(data: Any) -> Tuple[Any, Any]:
  """(the item without its core state, the core state) of a sampled item.

  `data` is a `base.Step` whose extras follow this layout; every other
  extra stays in the returned item.
  """
  extras = data.extras
  if not isinstance(extras, Mapping) or CORE_STATE_KEY not in extras:
    raise ValueError(f"item extras must hold {CORE_STATE_KEY!r}, got "
                     f"{type(extras).__name__} {list(getattr(extras, 'keys', list)())}")
  rest = {k: v for k, v in extras.items() if k != CORE_STATE_KEY}
  return data._replace(extras=rest), extras[CORE_STATE_KEY]
