"""Installs ftw: the FTW agent, its networks and losses, and its launchers."""

import pathlib

import setuptools

_HERE = pathlib.Path(__file__).parent
_TEST_ONLY = ("pytest",)


def _requirements():
  """requirements.txt's pins: {None: core, extra name: that extra's}.

  A comment line `# [name]` starts the lines of extra `name` (the Makefile
  installs every line; `pip install ftw` only the core, `ftw[ctf]` adds
  Melting Pot's runtime needs: chex, jax, dmlab2d, ...).
  """
  groups, current = {None: []}, None
  for line in (_HERE / "requirements.txt").read_text().splitlines():
    if line.startswith("# ["):
      current = line[3:line.index("]")]
      groups[current] = []
    requirement = line.split("#")[0].strip()
    if requirement and not requirement.startswith(_TEST_ONLY):
      groups[current].append(requirement)
  return groups


setuptools.setup(
    name="ftw",
    version="0.1.0",
    description=("For The Win (FTW) agent and a distributed actor-learner "
                 "framework on TensorFlow 2, Sonnet 2, Reverb and Ray."),
    long_description=(_HERE / "README.md").read_text(),
    long_description_content_type="text/markdown",
    python_requires=">=3.11,<3.12",
    packages=setuptools.find_packages(
        include=["ftw", "ftw.*", "agents", "agents.*", "launch", "launch.*",
                 "configs", "configs.*"]),
    install_requires=_requirements()[None],
    extras_require={"test": ["pytest>=8", "pytest-timeout>=2.3",
                             "pytest-xdist>=3.5"],
                    "ctf": _requirements()["ctf"]},
    license="Apache-2.0",
)
