"""Puts Melting Pot's source on the path of the running Python (the venv's).

`pip install dm-meltingpot` fails here: its `build_py` step downloads a
tarball of saved bot policies (for Melting Pot's *scenarios*) from a storage
bucket. The substrates, Capture the Flag among them, need none of it: the
sdist is pure Python + Lua. So this script

  1. fetches the sdist with pip (`pip download --no-deps --no-binary :all:`,
     through pip's own cache and index settings; pip only prepares its
     metadata, which downloads nothing else, and builds nothing);
  2. unpacks it into `<venv>/src/dm-meltingpot-<version>/`, without its
     `.egg-info` folder: on the path, that would tell pip a dm-meltingpot
     is installed whose unneeded requirements (opencv, pandas, pygame)
     are missing, and `pip check` would fail;
  3. writes `<site-packages>/meltingpot.pth` naming that folder.

The runtime dependencies (dmlab2d, chex, ...) are in requirements.txt. Running
it again is a no-op once the folder and the .pth file are in place.

Usage (from the Makefile's venv rule):
  .venv/bin/python tools/install_meltingpot.py [--version 2.4.1]
"""

import argparse
import pathlib
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import tempfile

PACKAGE = "dm-meltingpot"
DEFAULT_VERSION = "2.4.1"
PTH_NAME = "meltingpot.pth"


def _installed(source: pathlib.Path, pth: pathlib.Path) -> bool:
  return ((source / "meltingpot" / "__init__.py").is_file() and pth.is_file()
          and pth.read_text().strip() == str(source)
          and not any(source.glob("*.egg-info")))


def _download(version: str, into: pathlib.Path) -> pathlib.Path:
  """Returns the path of the downloaded sdist (.tar.gz)."""
  subprocess.run(
      [sys.executable, "-m", "pip", "download", "-q", "--no-deps",
       "--no-binary", ":all:", f"{PACKAGE}=={version}", "-d", str(into)],
      check=True)
  archives = sorted(into.glob("*.tar.gz"))
  if len(archives) != 1:
    raise RuntimeError(f"expected one sdist from pip download, found "
                       f"{[a.name for a in archives]} in {into}")
  return archives[0]


def _unpack(archive: pathlib.Path, source: pathlib.Path) -> None:
  """Unpacks the sdist's single top folder to `source`, atomically."""
  source.parent.mkdir(parents=True, exist_ok=True)
  staging = pathlib.Path(tempfile.mkdtemp(dir=source.parent, prefix=".mp-"))
  try:
    with tarfile.open(archive) as tar:
      tar.extractall(staging, filter="data")  # No absolute or ../ members.
    tops = [p for p in staging.iterdir() if p.is_dir()]
    if len(tops) != 1 or not (tops[0] / "meltingpot").is_dir():
      raise RuntimeError(f"unexpected layout in {archive.name}: {tops}")
    _drop_metadata(tops[0])
    if source.exists():
      shutil.rmtree(source)  # A partial folder from an interrupted run.
    tops[0].rename(source)
  finally:
    shutil.rmtree(staging, ignore_errors=True)


def _drop_metadata(source: pathlib.Path) -> None:
  for metadata in source.glob("*.egg-info"):
    shutil.rmtree(metadata)


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--version", default=DEFAULT_VERSION)
  args = parser.parse_args()
  if sys.prefix == sys.base_prefix:
    raise SystemExit("install_meltingpot.py must run with a venv's python "
                     "(e.g. .venv/bin/python), not the system one.")
  source = pathlib.Path(sys.prefix).resolve() / "src" / (
      f"{PACKAGE}-{args.version}")
  pth = pathlib.Path(sysconfig.get_paths()["purelib"]) / PTH_NAME
  if _installed(source, pth):
    print(f"[meltingpot] {PACKAGE} {args.version} already at {source}")
    return
  if not (source / "meltingpot" / "__init__.py").is_file():
    with tempfile.TemporaryDirectory() as download_dir:
      archive = _download(args.version, pathlib.Path(download_dir))
      _unpack(archive, source)
  _drop_metadata(source)  # Also from folders unpacked by earlier versions.
  pth.write_text(f"{source}\n")
  print(f"[meltingpot] {PACKAGE} {args.version} at {source}, "
        f"on the path through {pth}")


if __name__ == "__main__":
  main()
