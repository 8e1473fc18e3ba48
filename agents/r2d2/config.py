"""Configuration of the R2D2 agent; validates itself on construction."""

import dataclasses
from typing import Any, Dict, Optional, Tuple

from agents.running import RunningConfig
from ftw import checks
from ftw import envs
from ftw.tf.networks import defaults
from ftw.tf.networks.vision import validate_filters


@dataclasses.dataclass
class R2D2Config(RunningConfig):
  """Every knob of an R2D2 experiment; one line of docs per field."""

  AGENT = "r2d2"  # Not a field: the launchers' dispatch key.

  # Environment and acting.
  environment: str = "catch"
  """Environment name for `ftw.envs.make_environment` ('catch', 'Pong', ...)."""
  environment_kwargs: Dict[str, Any] = dataclasses.field(default_factory=dict)
  """Extra keyword arguments for the environment factory."""
  num_envs: int = 16
  """Environments one actor steps together (one network call per step)."""
  env_processes: int = 0
  """Subprocesses stepping each actor's environments, num_envs split among
  them (`ProcessVectorEnv`); 0 steps them in the actor's thread."""
  variable_update_period: int = 10
  """Actor steps (vector steps) between pulls of the learner's variables."""
  exploration: str = "apex"
  """'apex' (fixed per-row epsilons, Ape-X), 'linear' (one decaying epsilon)
  or 'boltzmann' (softmax of Q / temperature)."""
  epsilon: float = 0.4
  """Ape-X base epsilon, or the starting epsilon of the 'linear' schedule."""
  apex_alpha: float = 7.0
  """Ape-X: row i of N explores with epsilon^(1 + alpha * i / (N - 1))."""
  epsilon_final: float = 0.01
  """'linear': epsilon after `epsilon_decay_steps` actor steps."""
  epsilon_decay_steps: int = 100_000
  """'linear': actor steps (per actor, all rows) of the decay."""
  boltzmann_temperature: float = 1.0
  """'boltzmann': temperature of the softmax over Q-values."""
  eval_epsilon: float = 0.0
  """Epsilon of the evaluator's (greedy) policy."""

  # Network.
  conv_filters: Tuple[Tuple[int, int, int], ...] = defaults.CONV_FILTERS
  """FtwTorso's (channels, kernel, stride) convolutions."""
  residual_filters: Tuple[Tuple[int, int, int], ...] = ()
  """FtwTorso's residual blocks after the convolutions (may be empty)."""
  torso_hidden_size: int = 256
  """Output size of the FtwTorso."""
  core: str = "lstm"
  """Recurrent core: 'lstm' or 'rpth' (FTW's temporal hierarchy, no memory)."""
  hidden_size: int = 256
  """LSTM size (of the plain core, or of each RPTH unit)."""
  num_dimensions: int = 64
  """RPTH: size of the latent z fed to the Q head."""
  rpth_period: int = 4
  """RPTH: update period of the slow core."""
  dueling: bool = True
  """Dueling Q head (value + centred advantages) instead of a plain MLP."""
  head_hidden_size: int = 256
  """Hidden size of the Q head."""

  # Replay.
  sequence_length: int = 20
  """Steps per replayed sequence (T), burn-in included."""
  burn_in: int = 0
  """Leading steps of each sequence that only warm the recurrent state."""
  sequence_period: Optional[int] = None
  """Steps between sequence starts; None: T - 1 - burn_in (each step trained
  once, except an episode's first burn_in steps)."""
  batch_size: int = 32
  """Sequences per learner batch (B)."""
  replay_size: int = 2000
  """Capacity of the replay table, in sequences (oldest evicted first)."""
  min_replay_size: int = 100
  """Sequences in the table before the learner samples."""
  samples_per_insert: float = 4.0
  """Average times each sequence is sampled (rate limiter)."""
  prioritized: bool = True
  """Prioritised sampling (priority^priority_exponent); False: uniform."""
  priority_exponent: float = 0.9
  """Exponent of the priorities when sampling (R2D2: 0.9)."""
  importance_sampling_exponent: float = 0.6
  """Exponent beta of the importance weights (N P)^-beta (R2D2: 0.6)."""
  priority_eta: float = 0.9
  """Priority = eta * max|td| + (1 - eta) * mean|td| over a sequence."""
  replay_port: Optional[int] = None
  """Port of the Reverb server; None picks a free one."""
  dataset_prefetch: int = 1
  """Batches the learner's dataset prefetches (keep small on few cores)."""

  # Loss.
  td_target: str = "qlearning"
  """'qlearning' (max / double-Q bootstrap) or 'sarsa' (taken action)."""
  double_q: bool = True
  """Q-learning: the online network picks the bootstrap action."""
  n_step: int = 5
  """Steps before bootstrapping (truncated at the end of a sequence)."""
  discount: float = 0.997
  """Discount factor gamma."""
  value_rescaling: bool = True
  """Learn h(Q) with R2D2's h(x) = sign(x)(sqrt(|x| + 1) - 1) + eps x."""
  rescaling_epsilon: float = 1e-3
  """The eps of the value rescaling h."""
  loss_function: str = "squared"
  """TD loss per step: 'squared' (0.5 td^2) or 'huber'."""
  target_update_period: Optional[int] = 100
  """Learner steps between hard copies to the target network (or None)."""
  target_update_tau: Optional[float] = None
  """Polyak rate of soft target updates every step (None: hard updates)."""

  # Optimiser.
  learning_rate: float = 1e-4
  """Adam learning rate."""
  adam_epsilon: float = 1e-3
  """Epsilon of Adam (R2D2: 1e-3)."""
  max_gradient_norm: float = 40.0
  """Global gradient-norm clip."""

  def __post_init__(self):
    positive_ints(self, "num_envs", "variable_update_period",
                  "epsilon_decay_steps", "torso_hidden_size", "hidden_size",
                  "num_dimensions", "rpth_period", "head_hidden_size",
                  "batch_size", "replay_size", "min_replay_size", "n_step",
                  "dataset_prefetch")
    envs.check_env_processes(self.env_processes, self.num_envs)
    choice(self, "exploration", ("apex", "linear", "boltzmann"))
    choice(self, "core", ("lstm", "rpth"))
    choice(self, "td_target", ("qlearning", "sarsa"))
    choice(self, "loss_function", ("squared", "huber"))
    in_unit_interval(self, "epsilon", "epsilon_final", "eval_epsilon",
                     "priority_exponent", "importance_sampling_exponent",
                     "priority_eta", "discount")
    positive(self, "apex_alpha", "boltzmann_temperature", "samples_per_insert",
             "rescaling_epsilon", "learning_rate", "adam_epsilon",
             "max_gradient_norm", allow_zero=("apex_alpha",))
    self.conv_filters = validate_filters(self.conv_filters, "conv_filters",
                                         allow_empty=False)
    self.residual_filters = validate_filters(
        self.residual_filters, "residual_filters", allow_empty=True)
    checks.check_int("burn_in", self.burn_in, 0)
    if self.sequence_length < self.burn_in + 2:
      raise ValueError(
          f"sequence_length must be >= burn_in + 2 = {self.burn_in + 2} (one "
          "trained step and one to bootstrap from), got "
          f"{self.sequence_length}")
    if self.sequence_period is None:
      self.sequence_period = self.sequence_length - 1 - self.burn_in
    if not 1 <= self.sequence_period <= self.sequence_length:
      raise ValueError(f"sequence_period must be in [1, sequence_length="
                       f"{self.sequence_length}], got {self.sequence_period}")
    if not self.batch_size <= self.min_replay_size <= self.replay_size:
      raise ValueError(
          f"min_replay_size ({self.min_replay_size}) must be in [batch_size="
          f"{self.batch_size}, replay_size={self.replay_size}]")
    if (self.target_update_period is None) == (self.target_update_tau is None):
      raise ValueError("set exactly one of target_update_period (hard "
                       "updates) and target_update_tau (soft updates), got "
                       f"{self.target_update_period!r} and "
                       f"{self.target_update_tau!r}")
    if self.target_update_period is not None:
      checks.check_positive_int("target_update_period",
                                self.target_update_period)
    if (self.target_update_tau is not None and
        not 0.0 < self.target_update_tau <= 1.0):
      raise ValueError("target_update_tau must be in (0, 1] or None, got "
                       f"{self.target_update_tau}")
    self.check_running()

  def replace(self, **overrides) -> "R2D2Config":
    """Returns a copy with fields replaced; unknown names raise ValueError."""
    return checks.replace_fields(self, overrides,
                                 ("sequence_length", "burn_in"),
                                 "sequence_period")


# Helpers shared with the DPG agent's config.


def positive_ints(config, *names):
  for name in names:
    checks.check_positive_int(name, getattr(config, name))


def choice(config, name, choices):
  if getattr(config, name) not in choices:
    raise ValueError(
        f"{name} must be one of {choices}, got {getattr(config, name)!r}")


def in_unit_interval(config, *names):
  for name in names:
    value = getattr(config, name)
    if isinstance(value, bool) or not 0.0 <= value <= 1.0:
      raise ValueError(f"{name} must be in [0, 1], got {value!r}")


def positive(config, *names, allow_zero=()):
  for name in names:
    value = getattr(config, name)
    if not (value > 0 or (name in allow_zero and value == 0)):
      bound = ">= 0" if name in allow_zero else "> 0"
      raise ValueError(f"{name} must be {bound}, got {value!r}")
