"""Environments with the dm_env API: Catch, Atari through gymnasium, Capture
the Flag (Melting Pot, multi-agent), wrappers.

Imports stay inside `make_environment` so that `import ftw.envs` is cheap:
gymnasium, ale-py and meltingpot take a while to import.
"""

import functools
import importlib.util
from typing import Callable

import dm_env

from ftw import checks


def make_environment(name: str, seed: int, **kwargs) -> dm_env.Environment:
  """Makes an environment by name.

  Args:
    name: "catch" -> `ftw.envs.catch.Catch`; "ctf" ->
      `ftw.envs.ctf.CaptureTheFlag` (multi-agent: values carry a leading
      player axis); "atari:<Game>" or a bare ALE game name such as "Pong" ->
      `ftw.envs.atari.make_atari(game=<Game>)`; "gym:<id>" ->
      `GymnasiumToDmEnv(gymnasium.make(<id>))`.
    seed: seeds the environment (same seed, same episodes; not exactly for
      "ctf", see `ftw.envs.ctf`).
    **kwargs: passed to the constructor (Catch / CaptureTheFlag / make_atari /
      gymnasium.make).

  Raises:
    ValueError: for a name that names no environment.
  """
  kind = environment_kind(name, "name")
  if kind == "catch":
    from ftw.envs.catch import Catch  # pylint: disable=g-import-not-at-top
    return Catch(seed=seed, **kwargs)
  if kind == "ctf":
    _check_meltingpot(name)
    from ftw.envs.ctf import CaptureTheFlag  # pylint: disable=g-import-not-at-top
    return CaptureTheFlag(seed=seed, **kwargs)
  if kind == "gym":
    import gymnasium as gym  # pylint: disable=g-import-not-at-top
    from ftw.envs.gym_adapter import GymnasiumToDmEnv  # pylint: disable=g-import-not-at-top
    return GymnasiumToDmEnv(gym.make(gym_id(name), **kwargs), seed=seed)
  from ftw.envs.atari import make_atari  # pylint: disable=g-import-not-at-top
  try:
    return make_atari(game=atari_game(name), seed=seed, **kwargs)
  except ValueError as error:
    if "game must" in str(error):
      raise ValueError(f"name must be 'catch', 'ctf', 'gym:<id>', "
                       f"'atari:<Game>' or an ALE game name such as 'Pong', "
                       f"got {name!r}.") from error
    raise


def environment_kind(name: str, argument: str = "environment") -> str:
  """'catch', 'ctf', 'gym' ('gym:<id>') or 'atari' ('atari:<Game>' or any
  other name): the one rule that every maker and check of environments
  dispatches on.

  Raises:
    ValueError: naming `argument`, for a name that is not a non-empty string.
  """
  if not isinstance(name, str) or not name:
    raise ValueError(f"{argument} must be a non-empty string such as 'catch' "
                     f"or 'atari:Pong', got {name!r}.")
  if name.lower() == "catch":
    return "catch"
  if is_team_game(name):
    return "ctf"
  if name.startswith("gym:"):
    return "gym"
  return "atari"


def atari_game(name: str) -> str:
  """The game an Atari environment name names: 'atari:Pong' or 'Pong' ->
  'Pong'."""
  return name[len("atari:"):] if name.startswith("atari:") else name


def gym_id(name: str) -> str:
  """The gymnasium id a 'gym:<id>' environment name names."""
  if not name.startswith("gym:"):
    raise ValueError(f"a gymnasium environment name is 'gym:<id>', got "
                     f"{name!r}.")
  return name[len("gym:"):]


def make_vector_environment(make_env: Callable[[int], dm_env.Environment],
                            seed: int, num_envs: int, processes: int = 0):
  """`num_envs` environments `make_env(seed)`, `make_env(seed + 1)`, ...,
  batched.

  Args:
    make_env: builds one environment from its seed; with processes > 0 it
      must pickle (a module-level function, a partial of one, or a bound
      method of a picklable object such as an agent's builder).
    seed: the first environment's seed.
    num_envs: number of environments, >= 1.
    processes: 0 steps them in the caller's thread (`VectorEnv`); k > 0 in
      min(k, num_envs) worker processes (`ProcessVectorEnv`, same batches).

  Returns:
    A VectorEnv or a ProcessVectorEnv.
  """
  # pylint: disable=g-import-not-at-top
  from ftw.envs.process_vector_env import ProcessVectorEnv
  from ftw.envs.vector_env import VectorEnv
  # pylint: enable=g-import-not-at-top
  processes = checks.check_int("processes", processes, 0)
  factories = [functools.partial(make_env, seed + i) for i in range(num_envs)]
  if processes:
    return ProcessVectorEnv(factories, min(processes, num_envs))
  return VectorEnv(factories)


def check_env_processes(value, num_envs: int) -> int:
  """`value` if it is an int in [0, num_envs], else a ValueError naming it."""
  if not checks.is_int(value) or not 0 <= value <= num_envs:
    raise ValueError(f"env_processes must be an int in [0, num_envs="
                     f"{num_envs}], got {value!r}")
  return int(value)


def _check_meltingpot(name: str) -> None:
  # Found without importing it (which imports TensorFlow and dmlab2d).
  if importlib.util.find_spec("meltingpot") is None:
    raise ValueError(f"environment {name!r} needs Melting Pot, which is not "
                     f"installed: run `make venv` (tools/install_meltingpot.py "
                     f"puts its source on the path).")


def check_environment_name(name: str) -> None:
  """Raises a ValueError (as `make_environment` would) for a name that names
  no environment, without building one."""
  kind = environment_kind(name)
  if kind == "catch":
    return
  if kind == "ctf":
    _check_meltingpot(name)
    return
  import gymnasium as gym  # pylint: disable=g-import-not-at-top
  if kind == "gym":
    if gym_id(name) not in gym.registry:
      raise ValueError(f"environment {name!r}: gymnasium has no id "
                       f"{gym_id(name)!r}.")
    return
  import ale_py  # pylint: disable=g-import-not-at-top
  gym.register_envs(ale_py)
  if f"ALE/{atari_game(name)}-v5" not in gym.registry:
    raise ValueError(f"environment must be 'catch', 'ctf', 'gym:<id>', "
                     f"'atari:<Game>' or an ALE game name such as 'Pong', "
                     f"got {name!r}.")


# Team games: each environment is an arena whose players are an actor's rows.
TEAM_GAMES = ("ctf",)


def is_atari(name: str) -> bool:
  """Whether `name` makes an Atari game ('atari:<Game>' or a bare name that
  is none of the other kinds)."""
  return (isinstance(name, str) and bool(name)
          and environment_kind(name) == "atari")


def make_atari_vector_environment(name: str, seed: int, num_envs: int,
                                  num_threads: int, **kwargs):
  """`num_envs` games of Atari `name` ('atari:<Game>' or '<Game>') seeded
  seed, seed + 1, ... in ale-py's vector environment on `num_threads`
  threads (`ftw.envs.atari_vector.AleVectorEnv`: the batches of
  `make_vector_environment` over OAR-wrapped `make_atari` games).

  Raises:
    ValueError: for a name that is not an Atari game, or bad arguments.
  """
  if not is_atari(name):
    raise ValueError(f"name must be an Atari game such as 'Pong' or "
                     f"'atari:Pong', got {name!r}.")
  from ftw.envs.atari_vector import AleVectorEnv  # pylint: disable=g-import-not-at-top
  return AleVectorEnv(atari_game(name), num_envs, seed=seed,
                      num_threads=num_threads, **kwargs)


def is_team_game(name: str) -> bool:
  """Whether `name` is a multi-player team game (its arenas are slots)."""
  return isinstance(name, str) and name.lower() in TEAM_GAMES


def team_game_players(name: str, kwargs) -> int:
  """Players per arena of team game `name` built with `kwargs`."""
  if not is_team_game(name):
    raise ValueError(f"{name!r} is not a team game {TEAM_GAMES}.")
  import inspect  # pylint: disable=g-import-not-at-top
  from ftw.envs.ctf import CaptureTheFlag  # pylint: disable=g-import-not-at-top
  default = inspect.signature(CaptureTheFlag).parameters["num_players"].default
  return int(kwargs.get("num_players", default))


def make_team_game_slots(name: str, num_arenas: int, seed: int, **kwargs):
  """`num_arenas` arenas of team game `name`, seeded seed, seed + 1, ...,
  as the slots of one actor (`ftw.envs.ctf_slots.CtfSlots`)."""
  if not is_team_game(name):
    raise ValueError(f"{name!r} is not a team game {TEAM_GAMES}.")
  if isinstance(num_arenas, bool) or not isinstance(num_arenas, int) or (
      num_arenas < 1):
    raise ValueError(f"num_arenas must be an int >= 1, got {num_arenas!r}.")
  _check_meltingpot(name)
  from ftw.envs.ctf_slots import CtfSlots  # pylint: disable=g-import-not-at-top
  return CtfSlots([
      lambda i=i: make_environment(name, seed=seed + i, **kwargs)
      for i in range(num_arenas)])
