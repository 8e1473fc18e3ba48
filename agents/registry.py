"""Which agent a config describes, and its builder: the launchers' dispatch.

Every agent has a config dataclass (whose class attribute `AGENT`, if any,
names it) and a builder with Acme's `make_*` methods. `launch.local` and
`launch.distributed` ask this module for the builder of the config they were
given; nothing else in them depends on the agent.
"""

import importlib
from typing import Any, Dict, Tuple

# agent name -> (config class, builder class), as "module:Name" (imported on
# first use: each builder imports TensorFlow, Reverb and its networks).
AGENTS: Dict[str, Tuple[str, str]] = {
    "ftw": ("agents.ftw.config:FtwConfig", "agents.ftw.builder:FtwBuilder"),
    "r2d2": ("agents.r2d2.config:R2D2Config",
             "agents.r2d2.builder:R2D2Builder"),
    "dpg": ("agents.dpg.config:DPGConfig", "agents.dpg.builder:DPGBuilder"),
}


def _load(path: str):
  module, name = path.split(":")
  return getattr(importlib.import_module(module), name)


def config_classes() -> Tuple[type, ...]:
  return tuple(_load(config) for config, _ in AGENTS.values())


def agent_name(config: Any) -> str:
  """The name of the agent `config` configures.

  Raises:
    ValueError: for an object that is no agent's config.
  """
  for name, (config_path, _) in AGENTS.items():
    # Exactly that class (a subclass may be another agent's config).
    if type(config) is _load(config_path):  # pylint: disable=unidiomatic-typecheck
      return name
  raise ValueError(f"a config must be one of "
                   f"{[c.__name__ for c in config_classes()]}, got "
                   f"{type(config).__name__}")


def make_builder(config: Any, specs: Any = None):
  """The builder of `config`'s agent (specs: see the builders)."""
  return _load(AGENTS[agent_name(config)][1])(config, specs)


def actor_kwargs(config: Any, actor_id: int, num_actors: int) -> Dict[str, Any]:
  """Extra `make_actor` arguments of actor `actor_id` of `num_actors`: the
  replay agents spread exploration over actors; FTW seeds each actor's
  sampling differently (config.seed + 1000 * actor_id)."""
  if agent_name(config) == "ftw":
    return {"seed": config.seed + 1000 * actor_id}
  return {"actor_id": actor_id, "num_actors": num_actors}
