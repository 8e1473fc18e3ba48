"""setup.py: the core install leaves Melting Pot's needs to `ftw[ctf]`."""

import pathlib
import runpy

import setuptools

_ROOT = pathlib.Path(__file__).resolve().parents[1]


def _setup_arguments(monkeypatch):
  captured = {}
  monkeypatch.setattr(setuptools, "setup", lambda **kw: captured.update(kw))
  monkeypatch.chdir(_ROOT)
  runpy.run_path(str(_ROOT / "setup.py"))
  return captured


def _names(requirements):
  return {r.split("=")[0].split(">")[0].split("<")[0] for r in requirements}


def test_core_requirements_exclude_melting_pots_and_the_tests(monkeypatch):
  arguments = _setup_arguments(monkeypatch)
  core = _names(arguments["install_requires"])
  assert {"tensorflow", "dm-reverb", "dm-sonnet", "ray", "ale-py"} <= core
  assert not core & {"jax", "jaxlib", "chex", "dmlab2d", "pytest"}


def test_ctf_extra_holds_every_pin_after_its_marker(monkeypatch):
  ctf = _setup_arguments(monkeypatch)["extras_require"]["ctf"]
  lines = (_ROOT / "requirements.txt").read_text().splitlines()
  after = lines[lines.index(next(l for l in lines if l.startswith("# [ctf]"))):]
  pins = [l.split("#")[0].strip() for l in after]
  assert ctf == [p for p in pins if p]
  assert {"jax", "jaxlib", "chex", "dmlab2d"} <= _names(ctf)


def test_test_extra_holds_every_test_only_pin(monkeypatch):
  # `make test` runs the suite with pytest-xdist: `ftw[test]` must bring it.
  test = _setup_arguments(monkeypatch)["extras_require"]["test"]
  lines = (_ROOT / "requirements.txt").read_text().splitlines()
  pins = [l.split("#")[0].strip() for l in lines]
  assert sorted(test) == sorted(p for p in pins if p.startswith("pytest"))
  assert "pytest-xdist" in _names(test)
