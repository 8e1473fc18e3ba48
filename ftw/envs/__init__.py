"""Environments with the dm_env API: Catch, Atari through gymnasium, wrappers.

Imports stay inside `make_environment` so that `import ftw.envs` is cheap:
gymnasium and ale-py take a while to import.
"""

import dm_env


def make_environment(name: str, seed: int, **kwargs) -> dm_env.Environment:
  """Makes an environment by name.

  Args:
    name: "catch" -> `ftw.envs.catch.Catch`; "atari:<Game>" or a bare ALE game
      name such as "Pong" -> `ftw.envs.atari.make_atari(game=<Game>)`;
      "gym:<id>" -> `GymnasiumToDmEnv(gymnasium.make(<id>))`.
    seed: seeds the environment (same seed, same episodes).
    **kwargs: passed to the constructor (Catch / make_atari / gymnasium.make).

  Raises:
    ValueError: for a name that names no environment.
  """
  if not isinstance(name, str) or not name:
    raise ValueError(f"name must be a non-empty string such as 'catch' or "
                     f"'atari:Pong', got {name!r}.")
  if name.lower() == "catch":
    from ftw.envs.catch import Catch  # pylint: disable=g-import-not-at-top
    return Catch(seed=seed, **kwargs)
  if name.startswith("gym:"):
    import gymnasium as gym  # pylint: disable=g-import-not-at-top
    from ftw.envs.gym_adapter import GymnasiumToDmEnv  # pylint: disable=g-import-not-at-top
    return GymnasiumToDmEnv(gym.make(name[len("gym:"):], **kwargs), seed=seed)
  game = name[len("atari:"):] if name.startswith("atari:") else name
  from ftw.envs.atari import make_atari  # pylint: disable=g-import-not-at-top
  try:
    return make_atari(game=game, seed=seed, **kwargs)
  except ValueError as error:
    if "game must" in str(error):
      raise ValueError(f"name must be 'catch', 'gym:<id>', 'atari:<Game>' or an "
                       f"ALE game name such as 'Pong', got {name!r}.") from error
    raise


def check_environment_name(name: str) -> None:
  """Raises a ValueError (as `make_environment` would) for a name that names
  no environment, without building one."""
  if not isinstance(name, str) or not name:
    raise ValueError(f"environment must be a non-empty string such as "
                     f"'catch' or 'Pong', got {name!r}.")
  if name.lower() == "catch":
    return
  import gymnasium as gym  # pylint: disable=g-import-not-at-top
  if name.startswith("gym:"):
    if name[len("gym:"):] not in gym.registry:
      raise ValueError(f"environment {name!r}: gymnasium has no id "
                       f"{name[len('gym:'):]!r}.")
    return
  import ale_py  # pylint: disable=g-import-not-at-top
  gym.register_envs(ale_py)
  game = name[len("atari:"):] if name.startswith("atari:") else name
  if f"ALE/{game}-v5" not in gym.registry:
    raise ValueError(f"environment must be 'catch', 'gym:<id>', "
                     f"'atari:<Game>' or an ALE game name such as 'Pong', "
                     f"got {name!r}.")
