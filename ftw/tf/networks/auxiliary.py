"""Auxiliary task heads of the FTW agent: pixel control and reward prediction.

Both tasks come from UNREAL (Jaderberg et al. 2016, "Reinforcement Learning
with Unsupervised Auxiliary Tasks") and are used by FTW (Jaderberg et al. 2019).
"""

from typing import Any, Callable, Sequence, Union

import numpy as np
import sonnet as snt
import tensorflow as tf

from ftw import types
from ftw.tf.networks.argument_checks import action_sizes
from ftw.tf.networks.argument_checks import check_num_actions
from ftw.tf.networks.argument_checks import check_positive_int
from ftw.tf.networks import unroll

# Pixel control grid: 20 x 20 cells of 5 x 5 pixels cover the central 80 x 80.
GRID_SIZE = 20
_DECONV_INPUT_SIZE = 9  # (9 - 1) * stride 2 + kernel 4 = 20 with VALID.
_DECONV_CHANNELS = 32
NUM_REWARD_CLASSES = 3  # 0: zero reward, 1: negative, 2: positive.


def core_features(core_output: Any) -> tf.Tensor:
  """The feature tensor of a core output: its `z` field (RPTH) or itself."""
  return getattr(core_output, 'z', core_output)


class PixelControl(snt.Module):
  """Pixel control Q-values from a hidden state, with a dueling deconv head.

  [B, D] -> linear(32 * 9 * 9) -> activation -> reshape [B, 9, 9, 32] ->
  deconv(1) -> activation = V [B, 20, 20, 1] and
  deconv(num_actions) -> activation = A [B, 20, 20, num_actions];
  Q = V + A - mean_a(A), shape [B, 20, 20, num_actions].

  (Sonnet would infer 21 x 21 for this VALID deconvolution, so the output
  shape is given explicitly: (9 - 1) * 2 + 4 = 20.)
  Each of the 20 x 20 cells stands for a 5 x 5 pixel area of the central
  80 x 80 crop of an 84 x 84 x 3 observation, as in UNREAL and FTW. The
  activation after the deconvolutions (as in UNREAL) keeps V and A
  non-negative, matching the non-negative pixel-change rewards.

  Multi-discrete actions (num_actions = [A_1, ..., A_G]) get one Q-function
  per action group on the shared V, as in action-branching Q-networks
  (Tavakoli et al. 2018): Q_g = V + A_g - mean(A_g), concatenated over the
  groups to [B, 20, 20, A_1 + ... + A_G] in group order (the layout of the
  policy logits). The joint action space would need A_1 * ... * A_G
  channels; per-group heads grow with the sum. `pixel_control_loss` with
  `action_sizes` trains each group's Q on its own action and sums the losses.
  """

  def __init__(self,
               num_actions: Union[int, Sequence[int]],
               activation: Callable[[tf.Tensor], tf.Tensor] = tf.nn.relu,
               name: str = 'pixel_control'):
    """Initializes the PixelControl module.

    Args:
      num_actions: Number of actions in discrete action space, or the sizes
        of the action groups of a multi-discrete one (see the class doc).
      activation: Activation function used after the linear and the
        deconvolutional layers.
      name: Name for the module.

    Raises:
      ValueError: If `num_actions` is not a positive int or `activation` is not
        callable.
    """
    super().__init__(name=name)
    self._num_actions = check_num_actions('num_actions', num_actions)
    self._action_sizes = action_sizes(self._num_actions)
    if not callable(activation):
      raise ValueError(f'activation must be callable, got {activation!r}.')
    self._activation = activation
    self._linear = snt.Linear(
        _DECONV_INPUT_SIZE * _DECONV_INPUT_SIZE * _DECONV_CHANNELS,
        name='linear')
    self._value_deconv = snt.Conv2DTranspose(
        1, output_shape=(GRID_SIZE, GRID_SIZE), kernel_shape=4, stride=2,
        padding='VALID', name='value_deconv')
    self._advantage_deconv = snt.Conv2DTranspose(
        sum(self._action_sizes), output_shape=(GRID_SIZE, GRID_SIZE), kernel_shape=4,
        stride=2, padding='VALID', name='advantage_deconv')
    self._dueling = _dueling_matrix(self._action_sizes)

  def __call__(self, inputs: tf.Tensor) -> tf.Tensor:
    if inputs.shape.rank != 2:
      raise ValueError(f'inputs must have shape [B, D], got {inputs.shape}.')
    x = self._activation(self._linear(inputs))
    x = tf.reshape(
        x, [-1, _DECONV_INPUT_SIZE, _DECONV_INPUT_SIZE, _DECONV_CHANNELS])
    # [B, 20, 20, 1 + A]: activation(V), then activation(A) of each group.
    heads = self._deconvolve(x)
    # Q = V + A - mean(A) per group, as one product with a constant matrix
    # (slicing V and A apart costs two slice gradients over all cells).
    return tf.tensordot(heads, tf.cast(self._dueling, heads.dtype), axes=1)

  def _deconvolve(self, x: tf.Tensor) -> tf.Tensor:
    """[activation(V), activation(A)] [B, 20, 20, 1 + A] of x [B, 9, 9, 32].

    Once the two heads' variables exist, their filters are put side by side
    and V and A come from one transposed convolution: each output channel is
    computed as before, but the input is read once, forward and backward.
    The variables stay the two heads', so checkpoints keep loading.
    """
    value_head, advantage_head = self._value_deconv, self._advantage_deconv
    if not hasattr(value_head, 'w'):  # The first call creates the variables.
      return self._activation(tf.concat([value_head(x), advantage_head(x)],
                                        axis=-1))
    filters = tf.concat([value_head.w, advantage_head.w], axis=2)
    bias = tf.concat([value_head.b, advantage_head.b], axis=0)
    outputs = tf.nn.conv_transpose(
        x, filters, output_shape=[tf.shape(x)[0], GRID_SIZE, GRID_SIZE,
                                  filters.shape[2]],
        strides=2, padding='VALID')
    return self._activation(tf.nn.bias_add(outputs, bias))


def _dueling_matrix(sizes: Sequence[int]) -> np.ndarray:
  """M [1 + A, A] with [V, A_1, .., A_G] @ M = V + A_g - mean(A_g) per group."""
  total = sum(sizes)
  matrix = np.zeros([1 + total, total], np.float32)
  matrix[0] = 1.0
  start = 0
  for size in sizes:
    block = slice(start, start + size)
    matrix[1 + start:1 + start + size, block] = np.eye(size) - 1.0 / size
    start += size
  return matrix


class RNNPixelControlNetwork(snt.RNNCore):
  """Pixel control Q-values from observations: embed -> core -> PixelControl.

  `embed` and `core` may be shared with the agent's main network. If the core
  outputs a namedtuple with a `z` field (RPTH), `z` feeds the pixel control head.

  Shapes: __call__: inputs [B, ...] -> Q-values [B, 20, 20, num_actions]
  (the original FTW library's contract: the Q-values alone);
  step: inputs [B, ...] -> (Q-values, new state), for stepping through time;
  unroll: inputs [T, B, ...] -> [T, B, 20, 20, num_actions].
  """

  def __init__(self,
               embed: snt.Module,
               core: snt.RNNCore,
               num_actions: Union[int, Sequence[int]],
               activation: Callable[[tf.Tensor], tf.Tensor] = tf.nn.relu,
               name: str = 'rnn_pixel_control_network'):
    """Initializes the RNNPixelControlNetwork module.

    Args:
      embed: Embedding module transforming observations (a tensor or an OAR)
        into an embedding [B, D], e.g. FtwTorso or OAREmbedding.
      core: Recurrent core transforming the embedding into the input of the
        PixelControl module, e.g. RPTH.
      num_actions: Number of actions in discrete action space, or the
        sizes of the action groups of a multi-discrete one (see
        PixelControl).
      activation: Activation function used in the PixelControl module.
      name: Name for the module.

    Raises:
      ValueError: If shapes and/or types of constructor arguments do not match
        expected shapes and types.
    """
    super().__init__(name=name)
    if not callable(embed):
      raise ValueError(f'embed must be a callable module, got {embed!r}.')
    if not isinstance(core, snt.RNNCore):
      raise ValueError(f'core must be an snt.RNNCore, got {core!r}.')
    self._embed = embed
    self._core = core
    self._pixel_control = PixelControl(num_actions, activation)

  def initial_state(self, batch_size: int, **kwargs):
    return self._core.initial_state(batch_size, **kwargs)

  def step(self, inputs: Union[tf.Tensor, types.OAR], prev_state):
    """One step: (Q-values [B, 20, 20, num_actions], new core state)."""
    embedding = self._embed(inputs)
    core_output, state = self._core(embedding, prev_state)
    return self._pixel_control(core_features(core_output)), state

  def __call__(self, inputs: Union[tf.Tensor, types.OAR], prev_state):
    """Q-values [B, 20, 20, num_actions] of one step (`step` keeps the
    state too)."""
    return self.step(inputs, prev_state)[0]

  def unroll(self, inputs: Union[tf.Tensor, types.OAR], state) -> tf.Tensor:
    """Unrolls over a sequence of observations.

    Args:
      inputs: Observations [T, B, ...] as a tf.Tensor or an OAR namedtuple.
      state: Core state at the first step (batch size B).

    Returns:
      Pixel control Q-values [T, B, 20, 20, num_actions].
    """
    embeddings = snt.BatchApply(self._embed)(inputs)  # [T, B, D]
    core_outputs, _ = unroll.dynamic_unroll(self._core, embeddings, state)
    features = core_features(core_outputs)  # [T, B, F]
    return snt.BatchApply(self._pixel_control)(features)


class RewardPrediction(snt.Module):
  """Reward prediction logits from a hidden state.

  [B, D] -> linear(hidden_size) -> activation -> linear(3) = logits [B, 3]
  for the classes 0: zero reward, 1: negative reward, 2: positive reward.
  """

  def __init__(self,
               hidden_size: int = 128,
               activation: Callable[[tf.Tensor], tf.Tensor] = tf.nn.relu,
               name='reward_prediction'):
    """Initializes the RewardPrediction module.

    Args:
      hidden_size: Size of hidden linear layer.
      activation: Activation function used between linear and logits layer.
      name: Name for the module.

    Raises:
      ValueError: If `hidden_size` is not a positive int or `activation` is not
        callable.
    """
    super().__init__(name=name)
    check_positive_int('hidden_size', hidden_size)
    if not callable(activation):
      raise ValueError(f'activation must be callable, got {activation!r}.')
    self._activation = activation
    self._hidden = snt.Linear(hidden_size, name='hidden')
    self._logits = snt.Linear(NUM_REWARD_CLASSES, name='logits')

  def __call__(self, inputs: tf.Tensor) -> tf.Tensor:
    if inputs.shape.rank != 2:
      raise ValueError(f'inputs must have shape [B, D], got {inputs.shape}.')
    return self._logits(self._activation(self._hidden(inputs)))


class RewardPredictionNetwork(snt.Module):
  """Reward prediction logits from observations.

  frames [B, k, H, W, C] -> embed each frame (BatchApply) [B, k, D] ->
  concatenate [B, k * D] -> RewardPrediction -> logits [B, 3].
  UNREAL uses k = 3 frames to predict the reward following the last one.
  As the seed API documents, an observations input works too: a batch of
  single observations [B, H, W, C] (k = 1), or an OAR whose `observation`
  is either of the two.
  """

  def __init__(self,
               embed: snt.Module,
               hidden_size: int = 128,
               activation: Callable[[tf.Tensor], tf.Tensor] = tf.nn.relu,
               name='reward_prediction_network'):
    """Initializes the RewardPredictionNetwork module.

    Args:
      embed: Embedding module transforming frames [N, H, W, C] into an
        embedding [N, D], e.g. FtwTorso (possibly shared with the agent).
      hidden_size: Size of hidden linear layer.
      activation: Activation function used in the RewardPrediction module.
      name: Name for the module.

    Raises:
      ValueError: If shapes and/or types of constructor arguments do not match
        expected shapes and types.
    """
    super().__init__(name=name)
    if not callable(embed):
      raise ValueError(f'embed must be a callable module, got {embed!r}.')
    self._embed = embed
    self._reward_prediction = RewardPrediction(hidden_size, activation)

  def __call__(self, frames) -> tf.Tensor:
    if isinstance(frames, types.OAR):
      frames = frames.observation
    frames = tf.convert_to_tensor(frames)
    if frames.shape.rank == 4:  # Single observations: k = 1.
      return self._reward_prediction(self._embed(frames))
    if frames.shape.rank != 5 or frames.shape[1] is None:
      raise ValueError(
          'frames must have shape [B, k, H, W, C] with a static k, or '
          f'[B, H, W, C], got {frames.shape}.')
    embeddings = snt.BatchApply(self._embed)(frames)  # [B, k, D]
    stacked = tf.reshape(
        embeddings, [-1, frames.shape[1] * embeddings.shape[-1]])
    return self._reward_prediction(stacked)
