"""The one naming rule of ftw.envs: which kind of environment a name makes
(`environment_kind`), the game of an Atari name, and the errors of names
that name nothing, as each maker and check reports them."""

import pytest

from ftw import envs


@pytest.mark.parametrize("name,kind", [
    ("catch", "catch"), ("Catch", "catch"), ("ctf", "ctf"), ("CTF", "ctf"),
    ("gym:CartPole-v1", "gym"), ("atari:Pong", "atari"), ("Pong", "atari"),
    ("MsPacman", "atari")])
def test_environment_kind(name, kind):
  assert envs.environment_kind(name) == kind
  assert envs.is_atari(name) == (kind == "atari")
  assert envs.is_team_game(name) == (kind == "ctf")


def test_atari_game_drops_the_prefix_only():
  assert envs.atari_game("atari:Pong") == "Pong"
  assert envs.atari_game("Pong") == "Pong"
  assert envs.atari_game("atari:MsPacman") == "MsPacman"


def test_gym_id_drops_the_prefix_and_refuses_other_names():
  assert envs.gym_id("gym:CartPole-v1") == "CartPole-v1"
  assert envs.gym_id("gym:ALE/Pong-v5") == "ALE/Pong-v5"
  with pytest.raises(ValueError, match="'gym:<id>', got 'CartPole-v1'"):
    envs.gym_id("CartPole-v1")


@pytest.mark.parametrize("name", ["", None, 3, b"Pong"])
def test_a_name_that_is_no_string_is_refused_naming_the_argument(name):
  assert not envs.is_atari(name)
  with pytest.raises(ValueError, match="^environment must be a non-empty"):
    envs.environment_kind(name)
  with pytest.raises(ValueError, match="^environment must be a non-empty"):
    envs.check_environment_name(name)
  with pytest.raises(ValueError, match="^name must be a non-empty"):
    envs.make_environment(name, seed=0)
  with pytest.raises(ValueError, match="^name must be an Atari game"):
    envs.make_atari_vector_environment(name, seed=0, num_envs=1,
                                       num_threads=1)


def test_unknown_game_names_every_kind():
  with pytest.raises(ValueError, match="'gym:<id>', 'atari:<Game>'"):
    envs.check_environment_name("NotAGame")
  with pytest.raises(ValueError, match="'gym:<id>', 'atari:<Game>'"):
    envs.make_environment("atari:NotAGame", seed=0)
  with pytest.raises(ValueError, match="gymnasium has no id 'NoSuchEnv-v0'"):
    envs.check_environment_name("gym:NoSuchEnv-v0")
