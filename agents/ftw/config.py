"""Configuration of the FTW agent; validates itself on construction."""

import dataclasses
import math
import numbers
from typing import Any, Dict, Optional, Tuple

from agents.running import RunningConfig
from ftw import checks
from ftw import envs
from ftw.tf.networks import defaults


@dataclasses.dataclass
class FtwConfig(RunningConfig):
  """Every knob of an FTW experiment; one line of docs per field."""

  # Environment and acting.
  environment: str = "catch"
  """Environment name for `ftw.envs.make_environment` ('catch', 'Pong', ...)."""
  environment_kwargs: Dict[str, Any] = dataclasses.field(default_factory=dict)
  """Extra keyword arguments for the environment factory."""
  num_envs: int = 16
  """Environments one actor steps together (one network call per step); for
  a team game ('ctf') the arenas, each with all its players as slots."""
  env_processes: int = 0
  """Subprocesses stepping each actor's environments, num_envs split among
  them (`ProcessVectorEnv`); 0 steps them in the actor's thread."""
  env_threads: int = 0
  """Atari only: k > 0 steps the actor's games in ale-py's C++ vector
  environment on k threads (`ftw.envs.atari_vector.AleVectorEnv`, the same
  batches); 0 steps one Python `AtariEnv` per row (or `env_processes`)."""
  variable_update_period: int = 100
  """Actor steps (vector steps) between pulls of the learner's variables."""

  # Network (defaults: ftw.tf.networks.defaults, the FTW network's sizes).
  core: str = "rpth"
  """Recurrent core: 'rpth' (FTW's temporal hierarchy) or 'lstm'."""
  conv_filters: Tuple[Tuple[int, int, int], ...] = defaults.CONV_FILTERS
  """FtwTorso's (channels, kernel, stride) convolutions (FTW: 32x8/4, 64x4/2)."""
  residual_filters: Tuple[Tuple[int, int, int], ...] = (
      defaults.RESIDUAL_FILTERS)
  """FtwTorso's residual blocks after the convolutions (may be empty)."""
  normalize_observations: bool = False
  """Standardise pixels with running per-pixel mean/std (learner-updated)."""
  torso_dtype: str = "float32"
  """FtwTorso's convolutions: 'float32', 'bfloat16', 'auto' (bf16 if fast here)."""
  torso_hidden_size: int = defaults.TORSO_HIDDEN_SIZE
  """Output size of the FtwTorso."""
  hidden_size: int = defaults.HIDDEN_SIZE
  """LSTM size of each RPTH variational unit (or of the plain LSTM core)."""
  num_dimensions: int = defaults.NUM_DIMENSIONS
  """Size of RPTH's latent z (posterior and prior Gaussians)."""
  rpth_period: int = defaults.RPTH_PERIOD
  """Update period of RPTH's slow core (the fast core updates every step)."""
  memory_size: Optional[int] = defaults.MEMORY_SIZE
  """DNC memory rows shared by RPTH's cores; None disables the memory."""
  word_size: int = defaults.WORD_SIZE
  """DNC memory word size."""
  num_reads: int = defaults.NUM_READS
  """DNC read heads."""
  num_writes: int = defaults.NUM_WRITES
  """DNC write heads."""
  head_hidden_size: int = defaults.HEAD_HIDDEN_SIZE
  """Hidden size of the policy and value heads."""

  # Replay.
  sequence_length: int = 20
  """Steps per training sequence (T)."""
  sequence_period: Optional[int] = None
  """Steps between sequence starts; None means T - 1 (each step trained once)."""
  batch_size: int = 16
  """Sequences per learner batch (B)."""
  queue_size: int = 64
  """Capacity of the sequence queue; must exceed batch_size + 1."""
  samples_per_insert: Optional[float] = None
  """None: a FIFO queue, each sequence trained once. A number: a uniform
  replay of `replay_size` sequences, each sampled this many times on average."""
  replay_size: int = 512
  """Capacity (sequences) of the replay when samples_per_insert is set."""
  reward_prediction_table_size: int = 2000
  """Capacity of each reward-prediction table (zero / non-zero reward)."""
  replay_port: Optional[int] = None
  """Port of the Reverb server; None picks a free one."""
  dataset_prefetch: int = 1
  """Batches the learner's dataset prefetches (keep small on few cores)."""

  # Losses.
  internal_reward_weights: Optional[Tuple[float, ...]] = None
  """FTW's internal reward: one weight per entry of a vector reward (game
  events), r = w . events in the embedding and the losses; None: the
  environment's scalar reward as is."""
  loss: str = "vtrace"
  """Policy loss: 'vtrace' (IMPALA) or 'a2c' (n-step advantage actor-critic)."""
  discount: float = 0.99
  """Discount factor gamma."""
  vtrace_lambda: float = 1.0
  """V-trace lambda."""
  clip_rho_threshold: Optional[float] = 1.0
  """V-trace rho-bar (None: no clipping)."""
  clip_pg_rho_threshold: Optional[float] = 1.0
  """V-trace rho-bar of the policy-gradient advantage (None: no clipping)."""
  normalize_returns: bool = False
  """Learn standardised values: targets scaled by running return statistics."""
  normalize_advantages: bool = False
  """Standardise the policy-gradient advantages over each batch (as PPO does)."""
  n_steps: int = 5
  """Bootstrap horizon of the n-step A2C loss."""
  baseline_cost: float = 0.5
  """Weight of the value loss."""
  entropy_cost: float = 0.01
  """Weight of the entropy regulariser (at the first step, if scheduled)."""
  final_entropy_cost: Optional[float] = None
  """If set, the entropy cost moves linearly to this at max_learner_steps."""
  pixel_control_cost: float = 0.01
  """Weight of the pixel-control loss (0 disables it)."""
  pixel_control_cell_size: int = 4
  """Cell size of pixel control on the central 80x80 crop: 4, since the
  PixelControl head outputs 20x20 cells."""
  pixel_control_discount: float = 0.9
  """Discount of the pixel-control Q-learning."""
  reward_prediction_cost: float = 0.1
  """Weight of the reward-prediction loss (0 disables it)."""
  reward_prediction_zero_probability: float = 0.25
  """Fraction of zero-reward transitions actors send to the zero RP table."""
  reward_prediction_batch_size: int = 16
  """Frame stacks per reward-prediction batch (half zero, half non-zero)."""
  kl_cost: float = 1e-3
  """Weight of KL(posterior || prior) of RPTH."""
  kl_prior_cost: float = 1e-4
  """Weight of KL(prior || N(0, I)) of RPTH."""

  # Optimiser.
  optimizer: str = "adam"
  """'adam' (Sonnet's Adam, one fused kernel per variable) or 'rmsprop'."""
  learning_rate: float = 5e-4
  """Initial learning rate."""
  learning_rate_schedule: str = "constant"
  """'constant', or 'linear' decay to 0 at max_learner_steps."""
  adam_epsilon: float = 1e-6
  """Epsilon of Adam."""
  rmsprop_decay: float = 0.99
  """Decay of RMSProp."""
  rmsprop_epsilon: float = 1e-5
  """Epsilon of RMSProp."""
  max_gradient_norm: float = 40.0
  """Global gradient-norm clip."""
  jit_compile: bool = False
  """Compile the learner's update with XLA (tf.function(jit_compile=True))."""

  def __post_init__(self):
    _positive_int(self, "num_envs", "variable_update_period",
                  "torso_hidden_size", "hidden_size", "num_dimensions",
                  "rpth_period", "word_size", "num_reads", "num_writes",
                  "head_hidden_size", "batch_size", "queue_size",
                  "reward_prediction_table_size", "dataset_prefetch", "replay_size",
                  "n_steps", "pixel_control_cell_size",
                  "reward_prediction_batch_size")
    envs.check_env_processes(self.env_processes, self.num_envs)
    if self.env_processes and envs.is_team_game(self.environment):
      raise ValueError(
          f"env_processes must be 0 for a team game ({self.environment!r}): "
          f"its arenas step in the actor's thread, got {self.env_processes}")
    if not checks.is_int(self.env_threads) or self.env_threads < 0:
      raise ValueError(f"env_threads must be an int >= 0, got "
                       f"{self.env_threads!r}")
    if self.env_threads and not envs.is_atari(self.environment):
      raise ValueError(f"env_threads is for Atari games (ale-py's vector "
                       f"environment), got environment "
                       f"{self.environment!r}: set env_threads=0")
    if self.env_threads and self.env_processes:
      raise ValueError(f"env_threads ({self.env_threads}) and env_processes "
                       f"({self.env_processes}): choose one of them")
    _choice(self, "core", ("rpth", "lstm"))
    _choice(self, "torso_dtype", (*defaults.TORSO_DTYPES, "auto"))
    _choice(self, "loss", ("vtrace", "a2c"))
    _choice(self, "optimizer", ("adam", "rmsprop"))
    _choice(self, "learning_rate_schedule", ("constant", "linear"))
    if self.sequence_length < 2:
      raise ValueError("sequence_length must be >= 2 (the last step only "
                       f"bootstraps), got {self.sequence_length}")
    if self.sequence_period is None:
      self.sequence_period = self.sequence_length - 1
    if not 1 <= self.sequence_period <= self.sequence_length:
      raise ValueError(f"sequence_period must be in [1, sequence_length="
                       f"{self.sequence_length}], got {self.sequence_period}")
    if self.queue_size <= self.batch_size + 1:
      raise ValueError(
          f"queue_size ({self.queue_size}) must be larger than batch_size + 1 "
          f"({self.batch_size + 1}), or the learner and actors deadlock")
    self.conv_filters = _filters(self.conv_filters, "conv_filters", False)
    self.residual_filters = _filters(self.residual_filters,
                                     "residual_filters", True)
    if self.samples_per_insert is not None and not self.samples_per_insert > 0:
      raise ValueError("samples_per_insert must be > 0 or None, got "
                       f"{self.samples_per_insert}")
    if self.samples_per_insert is not None and self.replay_size < self.batch_size:
      raise ValueError(f"replay_size ({self.replay_size}) must be at least "
                       f"batch_size ({self.batch_size})")
    if self.reward_prediction_batch_size % 2:
      raise ValueError("reward_prediction_batch_size must be even (half zero, "
                       f"half non-zero), got {self.reward_prediction_batch_size}")
    if self.memory_size is not None and self.memory_size <= 0:
      raise ValueError(f"memory_size must be > 0 or None, got {self.memory_size}")
    if not 0.0 < self.reward_prediction_zero_probability <= 1.0:
      raise ValueError("reward_prediction_zero_probability must be in (0, 1], "
                       f"got {self.reward_prediction_zero_probability}")
    if not 0.0 <= self.discount <= 1.0:
      raise ValueError(f"discount must be in [0, 1], got {self.discount}")
    if not 0.0 <= self.pixel_control_discount <= 1.0:
      raise ValueError("pixel_control_discount must be in [0, 1], got "
                       f"{self.pixel_control_discount}")
    if not 0.0 <= self.vtrace_lambda <= 1.0:
      raise ValueError(f"vtrace_lambda must be in [0, 1], got {self.vtrace_lambda}")
    if self.pixel_control_cell_size != 4:
      raise ValueError("pixel_control_cell_size must be 4: the PixelControl "
                       "head predicts 20x20 cells of the 80x80 crop, got "
                       f"{self.pixel_control_cell_size}")
    self.check_running()
    for name in ("learning_rate", "max_gradient_norm"):
      if getattr(self, name) <= 0:
        raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
    for name in ("baseline_cost", "entropy_cost", "pixel_control_cost",
                 "reward_prediction_cost", "kl_cost", "kl_prior_cost"):
      if getattr(self, name) < 0:
        raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
    if self.internal_reward_weights is not None:
      self.internal_reward_weights = _weights(self.internal_reward_weights,
                                              "internal_reward_weights")
    if self.learning_rate_schedule == "linear" and not self.max_learner_steps:
      raise ValueError("learning_rate_schedule='linear' needs max_learner_steps")
    if self.final_entropy_cost is not None:
      if not self.final_entropy_cost >= 0:
        raise ValueError("final_entropy_cost must be >= 0 (or None), got "
                         f"{self.final_entropy_cost}")
      if not self.max_learner_steps:
        raise ValueError("final_entropy_cost needs max_learner_steps (the "
                         "entropy cost reaches it there)")

  def replace(self, **overrides) -> "FtwConfig":
    """Returns a copy with fields replaced; unknown names raise ValueError."""
    return checks.replace_fields(self, overrides, ("sequence_length",),
                                 "sequence_period")


def _positive_int(config, *names):
  for name in names:
    checks.check_positive_int(name, getattr(config, name))


def _filters(value, name, allow_empty):
  """Checks (channels, kernel, stride) triples; returns them as tuples."""
  ok = isinstance(value, (list, tuple)) and (allow_empty or value)
  triples = []
  for spec in value if ok else ():
    if not (isinstance(spec, (list, tuple)) and len(spec) == 3 and all(
        isinstance(v, int) and not isinstance(v, bool) and v > 0
        for v in spec)):
      ok = False
      break
    triples.append(tuple(spec))
  if not ok:
    raise ValueError(f"{name} must be a {'possibly empty ' if allow_empty else ''}"
                     "sequence of (channels, kernel, stride) triples of "
                     f"positive ints, got {value!r}")
  return tuple(triples)


def _weights(value, name):
  """A non-empty sequence of finite floats, as a tuple of floats."""
  ok = isinstance(value, (list, tuple)) and len(value) > 0
  out = []
  for v in value if ok else ():
    if isinstance(v, bool) or not isinstance(v, numbers.Real) or not (
        math.isfinite(v)):
      ok = False
      break
    out.append(float(v))
  if not ok:
    raise ValueError(f"{name} must be None or a non-empty sequence of finite "
                     f"floats (one per reward entry), got {value!r}")
  return tuple(out)


def _choice(config, name, choices):
  if getattr(config, name) not in choices:
    raise ValueError(
        f"{name} must be one of {choices}, got {getattr(config, name)!r}")
