"""Trains a DNC, NTM or LSTM on the copy or repeat-copy task.

  python -m launch.memory_task --task=copy --core=dnc --max_steps=20000 \
      --max_seconds=900 --logdir=runs/copy_dnc

Writes `progress.csv`, TensorBoard summaries, checkpoints and PNG plots under
--logdir; `--resume` continues from the latest checkpoint there.
"""

import ftw  # noqa: F401  (first: quiets TensorFlow's C++ start-up log)

import argparse
import dataclasses
import sys
from typing import List, Optional

from ftw.tasks.models import CORES
from ftw.tasks.training import OPTIMIZERS, TASKS, TrainConfig, check_logdir, train


def make_parser() -> argparse.ArgumentParser:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--task", choices=TASKS, default="copy")
  parser.add_argument("--core", choices=CORES, default="dnc")
  parser.add_argument("--optimizer", choices=OPTIMIZERS, default="adam")
  parser.add_argument("--resume", action="store_true",
                      help="continue from the latest checkpoint in --logdir")
  parser.add_argument("--stop_at_target", action="store_true",
                      help="stop once eval bit error < --target_bit_error")
  skip = {"task", "core", "optimizer", "resume", "stop_at_target"}
  for field in dataclasses.fields(TrainConfig):
    if field.name in skip:
      continue
    kind = {"int": int, "float": float, "str": str}.get(
        getattr(field.type, "__name__", ""), float)
    parser.add_argument(f"--{field.name}", type=kind, default=field.default,
                        help=f"default {field.default}")
  return parser


def main(argv: Optional[List[str]] = None) -> dict:
  args = make_parser().parse_args(argv)
  config = TrainConfig(**vars(args))
  try:
    config.validate()
    check_logdir(config)
  except ValueError as e:
    make_parser().error(str(e))
  return train(config)


if __name__ == "__main__":
  main(sys.argv[1:])
