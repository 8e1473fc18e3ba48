"""Configuration of the DPG agent; validates itself on construction."""

import dataclasses
from typing import Any, Dict, Optional, Tuple

from agents.r2d2 import config as r2d2_config
from agents.running import RunningConfig
from ftw import checks
from ftw import envs


@dataclasses.dataclass
class DPGConfig(RunningConfig):
  """Every knob of a deterministic-policy-gradient experiment; one line of
  docs per field."""

  AGENT = "dpg"  # Not a field: the launchers' dispatch key.

  # Environment and acting.
  environment: str = "gym:Pendulum-v1"
  """A continuous-action environment for `ftw.envs.make_environment`."""
  environment_kwargs: Dict[str, Any] = dataclasses.field(default_factory=dict)
  """Extra keyword arguments for the environment factory."""
  num_envs: int = 4
  """Environments one actor steps together (one network call per step)."""
  env_processes: int = 0
  """Subprocesses stepping each actor's environments, num_envs split among
  them (`ProcessVectorEnv`); 0 steps them in the actor's thread."""
  variable_update_period: int = 10
  """Actor steps (vector steps) between pulls of the policy's variables."""
  exploration_sigma: float = 0.2
  """Std of the Gaussian exploration noise, in units of half the action range
  (actions are squashed to [-1, 1] and scaled to the bounds)."""

  # Networks.
  policy_layers: Tuple[int, ...] = (256, 256)
  """Hidden layers of the policy MLP (observation -> action)."""
  critic_layers: Tuple[int, ...] = (256, 256)
  """Hidden layers of the critic MLP ((observation, action) -> Q)."""

  # Replay.
  sequence_length: int = 16
  """Steps per replayed sequence (T); steps 0..T-2 are trained."""
  sequence_period: Optional[int] = None
  """Steps between sequence starts; None means T - 1 (each step once)."""
  batch_size: int = 16
  """Sequences per learner batch (B x (T - 1) transitions)."""
  replay_size: int = 10_000
  """Capacity of the replay table, in sequences (oldest evicted first)."""
  min_replay_size: int = 64
  """Sequences in the table before the learner samples."""
  samples_per_insert: float = 64.0
  """Average times each sequence is sampled (rate limiter)."""
  replay_port: Optional[int] = None
  """Port of the Reverb server; None picks a free one."""
  dataset_prefetch: int = 1
  """Batches the learner's dataset prefetches (keep small on few cores)."""

  # Losses.
  n_step: int = 3
  """Steps before bootstrapping the critic (truncated at a sequence's end)."""
  discount: float = 0.99
  """Discount factor gamma."""
  reward_scale: float = 1.0
  """Rewards are multiplied by this before learning."""
  dqda_clipping: Optional[float] = None
  """Clip dQ/da of the policy gradient to +-this (None: no clipping)."""
  target_update_tau: Optional[float] = 0.005
  """Polyak rate of the target policy and critic (None: hard updates)."""
  target_update_period: Optional[int] = None
  """Learner steps between hard target copies (with target_update_tau None)."""

  # Optimisers.
  policy_learning_rate: float = 1e-4
  """Adam learning rate of the policy."""
  critic_learning_rate: float = 1e-3
  """Adam learning rate of the critic."""
  max_gradient_norm: float = 40.0
  """Global gradient-norm clip of each network's update."""

  # Running (agents/running.py), DPG's own default:
  eval_episodes: int = 8
  """Episodes per evaluation (the deterministic policy, no noise)."""

  def __post_init__(self):
    r2d2_config.positive_ints(
        self, "num_envs", "variable_update_period", "batch_size",
        "replay_size", "min_replay_size", "n_step", "dataset_prefetch")
    envs.check_env_processes(self.env_processes, self.num_envs)
    r2d2_config.positive(
        self, "exploration_sigma", "samples_per_insert", "reward_scale",
        "policy_learning_rate", "critic_learning_rate", "max_gradient_norm")
    r2d2_config.in_unit_interval(self, "discount")
    for name in ("policy_layers", "critic_layers"):
      layers = getattr(self, name)
      if not (isinstance(layers, (tuple, list)) and layers and
              all(checks.is_int(n) and n > 0 for n in layers)):
        raise ValueError(f"{name} must be a non-empty sequence of positive "
                         f"ints, got {layers!r}")
      setattr(self, name, tuple(int(n) for n in layers))
    if self.sequence_length < 2:
      raise ValueError("sequence_length must be >= 2 (the last step only "
                       f"bootstraps), got {self.sequence_length}")
    if self.sequence_period is None:
      self.sequence_period = self.sequence_length - 1
    if not 1 <= self.sequence_period <= self.sequence_length:
      raise ValueError(f"sequence_period must be in [1, sequence_length="
                       f"{self.sequence_length}], got {self.sequence_period}")
    if not self.batch_size <= self.min_replay_size <= self.replay_size:
      raise ValueError(
          f"min_replay_size ({self.min_replay_size}) must be in [batch_size="
          f"{self.batch_size}, replay_size={self.replay_size}]")
    if self.dqda_clipping is not None and not self.dqda_clipping > 0:
      raise ValueError(f"dqda_clipping must be > 0 or None, got "
                       f"{self.dqda_clipping}")
    if (self.target_update_period is None) == (self.target_update_tau is None):
      raise ValueError("set exactly one of target_update_tau (soft updates) "
                       "and target_update_period (hard updates), got "
                       f"{self.target_update_tau!r} and "
                       f"{self.target_update_period!r}")
    if (self.target_update_tau is not None and
        not 0.0 < self.target_update_tau <= 1.0):
      raise ValueError("target_update_tau must be in (0, 1] or None, got "
                       f"{self.target_update_tau}")
    if self.target_update_period is not None:
      checks.check_positive_int("target_update_period",
                                self.target_update_period)
    self.check_running()

  def replace(self, **overrides) -> "DPGConfig":
    """Returns a copy with fields replaced; unknown names raise ValueError."""
    return checks.replace_fields(self, overrides, ("sequence_length",),
                                 "sequence_period")
