"""Visual embedding (torso) of the FTW agent.

See Jaderberg et al. 2019, supplementary Figure S11: a small convolutional
stack, residual convolutional blocks, and a linear layer to the embedding.
"""

import functools
from typing import Callable, Sequence, Tuple, Union
import warnings

import sonnet as snt
import tensorflow as tf

from ftw.tf.networks import defaults
from ftw.tf.networks import normalization
from ftw.tf.networks import pixel_input

FilterSpec = Tuple[int, int, int]
COMPUTE_DTYPES = defaults.TORSO_DTYPES


def check_compute_dtype(argname: str,
                        value: Union[str, tf.DType]) -> tf.DType:
  """'float32' or 'bfloat16' (a name or a tf.DType) -> the tf.DType."""
  name = value.name if isinstance(value, tf.DType) else value
  if name not in COMPUTE_DTYPES:
    raise ValueError(
        f'{argname} must be one of {COMPUTE_DTYPES}, got {value!r}.')
  return tf.as_dtype(name)


@functools.lru_cache(maxsize=None)
def cpu_has_fast_bfloat16() -> bool:
  """Whether the CPU lists AMX-BF16 or AVX512-BF16 (Linux /proc/cpuinfo)."""
  try:
    with open('/proc/cpuinfo') as f:
      flags = f.read()
  except OSError:
    return False
  return 'amx_bf16' in flags or 'avx512_bf16' in flags


def fast_compute_dtype() -> str:
  """'bfloat16' where this CPU runs it fast (and no GPU is visible), else
  'float32': what a config's `torso_dtype='auto'` becomes on this machine."""
  if cpu_has_fast_bfloat16() and not tf.config.list_physical_devices('GPU'):
    return 'bfloat16'
  return 'float32'


class Conv2D(snt.Conv2D):
  """`snt.Conv2D` that computes in `compute_dtype` with float32 variables.

  bfloat16 convolutions run on the CPU's AMX / AVX512-BF16 units where it
  has them (2.3x faster for FtwTorso's forward + backward here); the
  weights stay float32 for the optimiser and checkpoints (same variables,
  same names as `snt.Conv2D`) and are cast at each call. Inputs of any
  float dtype are cast; the output has `compute_dtype`.
  """

  def __init__(self, *args, compute_dtype: Union[str, tf.DType] = 'float32',
               **kwargs):
    super().__init__(*args, **kwargs)
    self._compute_dtype = check_compute_dtype('compute_dtype', compute_dtype)

  def __call__(self, inputs: tf.Tensor) -> tf.Tensor:
    if self._compute_dtype == tf.float32:
      return super().__call__(inputs)
    if not hasattr(self, 'w'):  # float32 variables, whatever the inputs.
      self._initialize(tf.cast(inputs, tf.float32))
    dtype = self._compute_dtype
    inputs = tf.cast(inputs, dtype)
    if self.padding_func:
      inputs = tf.pad(inputs, self._padding)
    outputs = tf.nn.convolution(
        inputs, tf.cast(self.w, dtype), strides=self.stride,
        padding=self.conv_padding, dilations=self.rate,
        data_format=self.data_format)
    if self.with_bias:
      outputs = tf.nn.bias_add(outputs, tf.cast(self.b, dtype),
                               data_format=self.data_format)
    return outputs


class Linear(snt.Linear):
  """`snt.Linear` whose product runs in `compute_dtype`, float32 around it.

  In bfloat16 the inputs and weights are cast for the matrix product (on
  AMX / AVX512-BF16); its result is cast back and the bias added in float32,
  so the output is float32 and the variables stay `snt.Linear`'s (float32,
  same names). FtwTorso's last layer (9x9x64 -> 256, every frame of a
  batch) uses it: in the full agent's update (op profile, 2-core Xeon with
  AMX) ~45 ms in float32, ~9 in bfloat16.
  """

  def __init__(self, *args, compute_dtype: Union[str, tf.DType] = 'float32',
               **kwargs):
    super().__init__(*args, **kwargs)
    self._compute_dtype = check_compute_dtype('compute_dtype', compute_dtype)

  def __call__(self, inputs: tf.Tensor) -> tf.Tensor:
    if self._compute_dtype == tf.float32:
      return super().__call__(tf.cast(inputs, tf.float32))
    self._initialize(tf.cast(inputs, tf.float32))
    dtype = self._compute_dtype
    outputs = tf.cast(tf.matmul(tf.cast(inputs, dtype),
                                tf.cast(self.w, dtype)), tf.float32)
    if self.with_bias:
      outputs = tf.add(outputs, self.b)
    return outputs


def validate_filters(filters: Sequence[FilterSpec], argname: str,
                     allow_empty: bool) -> Tuple[FilterSpec, ...]:
  """Checks a sequence of (num_channels, kernel_size, stride) int triples.

  Args:
    filters: The sequence to check.
    argname: Argument name used in error messages.
    allow_empty: Whether an empty sequence is acceptable.

  Returns:
    The filters as a tuple of int triples.

  Raises:
    ValueError: If `filters` is not a sequence of positive int triples.
  """
  if isinstance(filters, (str, bytes)) or not isinstance(filters, Sequence):
    raise ValueError(
        f'{argname} must be a sequence of (num_channels, kernel_size, stride) '
        f'int triples, got {filters!r}.')
  if not filters and not allow_empty:
    raise ValueError(f'{argname} must not be empty.')
  result = []
  for i, spec in enumerate(filters):
    ok = (isinstance(spec, Sequence) and len(spec) == 3 and all(
        isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in spec))
    if not ok:
      raise ValueError(
          f'{argname}[{i}] must be a (num_channels, kernel_size, stride) triple '
          f'of positive ints, got {spec!r}.')
    result.append(tuple(spec))
  return tuple(result)


class ResidualBlock(snt.Module):
  """y = skip(x) + conv(activation(x)); skip is a 1x1 projection if needed.

  Shapes: [B, H, W, C] -> [B, ceil(H / stride), ceil(W / stride), channels].
  """

  def __init__(self, num_channels: int, kernel_size: int, stride: int,
               activation: Callable[[tf.Tensor], tf.Tensor],
               name: str = 'residual_block',
               compute_dtype: Union[str, tf.DType] = 'float32'):
    super().__init__(name=name)
    self._num_channels = num_channels
    self._stride = stride
    self._activation = activation
    self._compute_dtype = compute_dtype
    self._conv = Conv2D(num_channels, kernel_size, stride=stride,
                        padding='SAME', name='conv',
                        compute_dtype=compute_dtype)
    self._projection = None

  def __call__(self, inputs: tf.Tensor) -> tf.Tensor:
    residual = self._conv(self._activation(inputs))
    if inputs.shape[-1] == self._num_channels and self._stride == 1:
      skip = tf.cast(inputs, residual.dtype)
    else:
      # Channels or resolution change: project the skip path to match.
      if self._projection is None:
        self._projection = Conv2D(self._num_channels, 1,
                                  stride=self._stride, padding='SAME',
                                  name='projection',
                                  compute_dtype=self._compute_dtype)
      skip = self._projection(inputs)
    return skip + residual


class FtwTorso(snt.Module):
  """Visual embedding module as used in the FTW paper.

  conv stack (VALID padding, activation after each) -> residual blocks ->
  activation -> flatten -> linear(hidden_size) [-> activation].

  Shapes: uint8 or float [B, H, W, C] -> float32 [B, hidden_size]. uint8 pixels
  are scaled to [0, 1]; float inputs are used as they are.
  With the defaults, [B, 84, 84, 3] -> conv 20x20x32 -> conv 9x9x64 ->
  2 residual blocks 9x9x64 -> [B, 256].
  """

  def __init__(self,
               conv_filters: Sequence[FilterSpec] = ((32, 8, 4), (64, 4, 2)),
               residual_filters: Sequence[FilterSpec] = ((64, 3, 1),
                                                         (64, 3, 1)),
               hidden_size: int = 256,
               activation: Callable[[tf.Tensor], tf.Tensor] = tf.nn.relu,
               activate_last: bool = False,
               normalize_inputs: bool = False,
               name: str = 'ftw_torso',
               compute_dtype: Union[str, tf.DType] = 'float32'):
    """Initializes the FtwTorso module.

    Args:
      conv_filters: Sequence of (num_channels, kernel_size, stride) int triples,
        one per (non-residual) convolutional layer.
      residual_filters: Sequence of (num_channels, kernel_size, stride) int
        triples, one per residual block (may be empty).
      hidden_size: Size of the final output layer.
      activation: Activation function used between layers.
      activate_last: Whether to pass the output of the final layer through
        `activation`.
      normalize_inputs: Whether to standardise every input element with
        running statistics (`normalization.RunningMeanStd`, clipped to +-5)
        after scaling; the learner updates them with
        `update_input_statistics`. Scaling, standardising and the cast to
        `compute_dtype` run as one XLA-compiled pass over the frames, as
        does the statistics' update (`pixel_input`).
      name: Name for the module.
      compute_dtype: 'float32', or 'bfloat16' to run the convolutions and
        residual blocks in bfloat16 (`Conv2D`; fast on CPUs with AMX or
        AVX512-BF16, slow on others), and the final linear layer's
        matrix product (`Linear`). Variables, the input normalisation, the
        linear layer's bias and the output stay float32.

    Raises:
      ValueError: If shapes and/or types of constructor arguments do not match
        expected shapes and types.
    """
    super().__init__(name=name)
    self._compute_dtype = check_compute_dtype('compute_dtype', compute_dtype)
    if (self._compute_dtype == tf.bfloat16 and not cpu_has_fast_bfloat16() and
        not tf.config.list_physical_devices('GPU')):
      warnings.warn('FtwTorso(compute_dtype=bfloat16) on a CPU without '
                    'AMX-BF16 or AVX512-BF16: slower than float32 here.')
    self._conv_filters = validate_filters(conv_filters, 'conv_filters',
                                          allow_empty=False)
    self._residual_filters = validate_filters(residual_filters,
                                              'residual_filters',
                                              allow_empty=True)
    if (not isinstance(hidden_size, int) or isinstance(hidden_size, bool) or
        hidden_size <= 0):
      raise ValueError(
          f'hidden_size must be a positive int, got {hidden_size!r}.')
    if not callable(activation):
      raise ValueError(f'activation must be callable, got {activation!r}.')
    if not isinstance(activate_last, bool):
      raise ValueError(f'activate_last must be a bool, got {activate_last!r}.')
    self._hidden_size = hidden_size
    self._activation = activation
    self._activate_last = activate_last
    self._convs = [
        Conv2D(c, k, stride=s, padding='VALID', name=f'conv_{i}',
               compute_dtype=self._compute_dtype)
        for i, (c, k, s) in enumerate(self._conv_filters)
    ]
    self._residual_blocks = [
        ResidualBlock(c, k, s, activation, name=f'residual_{i}',
                      compute_dtype=self._compute_dtype)
        for i, (c, k, s) in enumerate(self._residual_filters)
    ]
    self._normalizer = (normalization.RunningMeanStd()
                        if normalize_inputs else None)
    self._flatten_layer = snt.Flatten()
    self._linear = Linear(hidden_size, name='linear',
                          compute_dtype=self._compute_dtype)

  @property
  def output_size(self) -> int:
    return self._hidden_size

  @property
  def compute_dtype(self) -> tf.DType:
    """The dtype the convolutions compute in."""
    return self._compute_dtype

  @property
  def input_normalizer(self):
    """The RunningMeanStd of the inputs, or None."""
    return self._normalizer

  def _checked(self, inputs) -> tf.Tensor:
    inputs = tf.convert_to_tensor(inputs)
    if inputs.shape.rank != 4:
      raise ValueError(
          f'inputs must have shape [B, H, W, C], got {inputs.shape}.')
    if inputs.dtype != tf.uint8 and not inputs.dtype.is_floating:
      raise ValueError(
          f'inputs must be uint8 or float pixels, got dtype {inputs.dtype}.')
    if self._normalizer is not None:
      self._normalizer.check_inputs(inputs)
    return inputs

  def update_input_statistics(self, inputs, weights=None):
    """Merges inputs [B, H, W, C] (rows weighted by weights [B])."""
    if self._normalizer is None:
      raise ValueError('update_input_statistics needs normalize_inputs=True.')
    inputs = self._checked(inputs)
    norm = self._normalizer
    norm.build(inputs.shape[1:])
    norm.assign(pixel_input.merged_pixel_statistics(
        inputs, weights, norm.count, norm.mean, norm.m2))

  def __call__(self, inputs: tf.Tensor) -> tf.Tensor:
    inputs = self._checked(inputs)
    norm = self._normalizer
    if norm is None:
      x = pixel_input.torso_input(inputs, None, None, 0.0, None,
                                  self._compute_dtype)
    else:
      norm.build(inputs.shape[1:])
      x = pixel_input.torso_input(inputs, norm.mean, norm.variance,
                                  norm.epsilon, norm.clip, self._compute_dtype)
    for conv in self._convs:
      x = self._activation(conv(x))
    for block in self._residual_blocks:
      x = block(x)
    if self._residual_blocks:
      x = self._activation(x)
    x = self._linear(self._flatten_layer(x))  # float32 out
    if self._activate_last:
      x = self._activation(x)
    return x
