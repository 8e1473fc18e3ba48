"""Command line shared by the launchers: config file, overrides, run flags.

    python -m launch.local --config=configs/catch.py --logdir=/tmp/ftw \
        --max_seconds=600 batch_size=32 learning_rate=3e-4

Any `field=value` (or `--field=value`) that is not a launcher flag overrides
the config field of that name; unknown names stop the launch with a message
naming them.
"""

import argparse
import ast
import dataclasses
import importlib
import importlib.util
import os
import tempfile
import typing
from typing import List, Optional, Sequence, Tuple

from agents import registry
from agents.ftw.config import FtwConfig
from ftw import envs


def load_config(path_or_module: str) -> FtwConfig:
  """Loads `get_config()` from a config file path or a module name."""
  if path_or_module.endswith(".py") or os.sep in path_or_module:
    if not os.path.exists(path_or_module):
      raise ValueError(f"--config: no such file {path_or_module!r}")
    spec = importlib.util.spec_from_file_location("ftw_config", path_or_module)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
  else:
    module = importlib.import_module(path_or_module)
  if not hasattr(module, "get_config"):
    raise ValueError(f"--config {path_or_module!r} defines no get_config()")
  config = module.get_config()
  try:
    registry.agent_name(config)  # FtwConfig, or another agent's config.
  except ValueError:
    raise ValueError(f"get_config() in {path_or_module!r} must return an "
                     f"FtwConfig (or another agent's config: "
                     f"{[c.__name__ for c in registry.config_classes()]}), "
                     f"got {type(config).__name__}") from None
  return config


def _parse_value(field: dataclasses.Field, text: str):
  """Parses `text` as the type of `field` (None/null allowed if Optional)."""
  hint = field.type if not isinstance(field.type, str) else eval(  # pylint: disable=eval-used
      field.type, vars(typing))
  base, optional = hint, False
  if typing.get_origin(hint) is typing.Union:  # Optional[X] -> X.
    args = typing.get_args(hint)
    optional = type(None) in args
    base = next(a for a in args if a is not type(None))
  if optional and text.lower() in ("none", "null"):
    return None
  if typing.get_origin(base) in (dict, typing.Dict) or base is dict:
    value = ast.literal_eval(text)
    if not isinstance(value, dict):
      raise ValueError(f"config field {field.name!r} expects a dict, got {text!r}")
    return value
  if typing.get_origin(base) in (tuple, typing.Tuple) or base is tuple:
    try:
      value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
      value = None
    if not isinstance(value, (tuple, list)):
      raise ValueError(f"config field {field.name!r} expects a tuple, got {text!r}")
    return tuple(value)
  if base is bool:
    if text.lower() not in ("true", "false", "1", "0"):
      raise ValueError(f"config field {field.name!r} expects true/false, got {text!r}")
    return text.lower() in ("true", "1")
  try:
    if base is int:
      return int(text)
    if base is float:
      return float(text)
  except ValueError:
    raise ValueError(f"config field {field.name!r} expects {base.__name__}, "
                     f"got {text!r}") from None
  return text


def parse_overrides(config: FtwConfig, items: Sequence[str],
                    flags: Optional[dict] = None) -> FtwConfig:
  """Applies `field=value` overrides; unknown fields raise ValueError.

  `flags` (field -> value, e.g. from --max_learner_steps) are applied in
  the same replace, after the items: the config is validated once, with
  all of them (a field checked against another set by a flag passes).
  """
  fields = {f.name: f for f in dataclasses.fields(config)}
  overrides = {}
  for item in items:
    item = item[2:] if item.startswith("--") else item
    if "=" not in item:
      raise ValueError(f"override {item!r} must look like field=value")
    name, text = item.split("=", 1)
    if name not in fields:
      raise ValueError(f"unknown config field {name!r}; known fields: "
                       f"{sorted(fields)}")
    overrides[name] = _parse_value(fields[name], text)
  overrides.update(flags or {})
  return config.replace(**overrides)


def make_parser(description: str) -> argparse.ArgumentParser:
  parser = argparse.ArgumentParser(description=description)
  parser.add_argument("--config", default="configs/catch.py",
                      help="config file (get_config() -> FtwConfig)")
  parser.add_argument("--logdir", default=None,
                      help="log/checkpoint folder (default: runs/<config>)")
  parser.add_argument("--seed", type=int, default=None)
  parser.add_argument("--max_seconds", type=float, default=None)
  parser.add_argument("--max_actor_steps", type=int, default=None)
  parser.add_argument("--max_learner_steps", type=int, default=None)
  parser.add_argument("--resume", action="store_true",
                      help="continue from the latest checkpoint in --logdir")
  return parser


def parse(parser: argparse.ArgumentParser,
          argv: Optional[List[str]] = None) -> Tuple[argparse.Namespace,
                                                     FtwConfig]:
  """Parses flags and overrides; returns (flags, validated config)."""
  args, rest = parser.parse_known_args(argv)
  try:
    run_flags = {k: getattr(args, k) for k in
                 ("seed", "max_seconds", "max_actor_steps",
                  "max_learner_steps") if getattr(args, k) is not None}
    config = parse_overrides(load_config(args.config), rest, run_flags)
    envs.check_environment_name(config.environment)
  except ValueError as e:
    parser.error(str(e))
  if args.logdir is None:
    name = os.path.splitext(os.path.basename(args.config))[0]
    args.logdir = os.path.join("runs", name)
  try:
    os.makedirs(args.logdir, exist_ok=True)
    probe = tempfile.NamedTemporaryFile(dir=args.logdir, delete=True)
    probe.close()
  except OSError as e:
    parser.error(f"--logdir {args.logdir!r} is not a writable folder: "
                 f"{e.strerror or e}")
  return args, config
