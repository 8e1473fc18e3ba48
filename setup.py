"""Installs ftw: the FTW agent, its networks and losses, and its launchers."""

import pathlib

import setuptools

_HERE = pathlib.Path(__file__).parent
_TEST_ONLY = ("pytest",)


def _requirements():
  lines = (_HERE / "requirements.txt").read_text().splitlines()
  reqs = [l.split("#")[0].strip() for l in lines]
  return [r for r in reqs if r and not r.startswith(_TEST_ONLY)]


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
    install_requires=_requirements(),
    extras_require={"test": ["pytest>=8", "pytest-timeout>=2.3"]},
    license="Apache-2.0",
)
