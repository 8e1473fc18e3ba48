"""The FTW agent's network: embedding, recurrent core, and heads.

FtwNetwork ties together an embedding of (observation, action, reward) inputs
(e.g. OAREmbedding over FtwTorso), a recurrent core (RPTH in FTW, or any
snt.RNNCore such as snt.LSTM), a policy/value head, and the auxiliary pixel
control and reward prediction heads (Jaderberg et al. 2019, Figure S11).
"""

from typing import Any, NamedTuple, Sequence, Tuple, Union

import sonnet as snt
import tensorflow as tf

from ftw import types
from ftw.tf.networks import auxiliary
from ftw.tf.networks import unroll
from ftw.tf.networks.argument_checks import action_sizes
from ftw.tf.networks.argument_checks import check_num_actions
from ftw.tf.networks.argument_checks import check_positive_int
from ftw.tf.networks.policy_value import PolicyValueHead
from ftw.tf.networks.rpth import RPTH
from ftw.tf.networks.rpth import RPTHInput


class FtwOutput(NamedTuple):
  """Outputs of FtwNetwork; leading dims [B] per step or [T, B] unrolled.

  It unpacks as the seed API documents `unroll`'s output,
  `(logits, value, (z, [(loc, scale), ...]))` for an RPTH core:

  policy_logits: [..., A] logits of the policy; for a multi-discrete action
    space A = A_1 + ... + A_G, the logits of each group concatenated in
    group order (see PolicyValueHead).
  value: [...] state value estimate.
  core_output: the core's full output (e.g. RPTHOutput(z, distribution_params)
    with the prior/posterior parameters needed for the RPTH KL loss).

  `features` (a property, not a field) is the [..., F] tensor fed to the heads:
  RPTH's z, or the core output itself.
  """
  policy_logits: tf.Tensor
  value: tf.Tensor
  core_output: Any

  @property
  def features(self) -> tf.Tensor:
    return auxiliary.core_features(self.core_output)


class FtwNetwork(snt.RNNCore):
  """Recurrent actor-critic network of the FTW agent with auxiliary heads.

  Per step: OAR [B, ...] -> embed [B, D] -> core -> features [B, F] ->
  PolicyValueHead -> (policy_logits [B, A], value [B]).

  Multi-discrete action spaces: num_actions = [A_1, ..., A_G] gives one
  softmax per action group, logits concatenated [B, A_1 + ... + A_G];
  actions are int32 [B, G] (one entry per group, each in [0, A_g)), the
  joint action's probability is the product of the groups'. The embedding
  must then take previous actions [B, G] (OAREmbedding(torso, num_actions)).
  """

  def __init__(self,
               embed: snt.Module,
               core: snt.RNNCore,
               num_actions: Union[int, Sequence[int]],
               head_hidden_size: int = 256,
               pixel_control: bool = True,
               reward_prediction: bool = True,
               name: str = 'simple_ftw_network'):
    """Initializes the FtwNetwork.

    Args:
      embed: Module embedding OAR inputs [B, ...] into [B, D], e.g.
        OAREmbedding(FtwTorso(), num_actions).
      core: Recurrent core, e.g. RPTH (whose output's `z` field becomes the
        features) or snt.LSTM (whose output is the features).
      num_actions: Number of actions in the discrete action space (an int),
        or the number of actions of each group of a multi-discrete action
        space (a sequence of ints, e.g. [5, 3, 3]).
      head_hidden_size: Hidden size of the policy and value layers.
      pixel_control: Whether to build the pixel control head
        (`pixel_control_values`).
      reward_prediction: Whether to build the reward prediction head
        (`reward_prediction_logits`), which shares the embedding's torso.
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
    self._num_actions = check_num_actions('num_actions', num_actions)
    self._action_sizes = action_sizes(self._num_actions)
    check_positive_int('head_hidden_size', head_hidden_size)
    for argname, value in (('pixel_control', pixel_control),
                           ('reward_prediction', reward_prediction)):
      if not isinstance(value, bool):
        raise ValueError(f'{argname} must be a bool, got {value!r}.')
    self._embed = embed
    self._core = core
    self._head = PolicyValueHead(self._num_actions, head_hidden_size)
    self._pixel_control = (
        auxiliary.PixelControl(self._num_actions) if pixel_control else None)
    self._reward_prediction = None
    if reward_prediction:
      # Reward prediction sees frames only, so it shares the visual torso.
      torso = getattr(embed, 'torso', embed)
      self._reward_prediction = auxiliary.RewardPredictionNetwork(torso)

  @property
  def num_actions(self) -> Union[int, Tuple[int, ...]]:
    """An int (discrete) or a tuple of group sizes (multi-discrete)."""
    return self._num_actions

  @property
  def action_sizes(self) -> Tuple[int, ...]:
    """Sizes of the action groups; (A,) for a discrete action space."""
    return self._action_sizes

  @property
  def multi_discrete(self) -> bool:
    return not isinstance(self._num_actions, int)

  @property
  def embed(self) -> snt.Module:
    return self._embed

  @property
  def core(self) -> snt.RNNCore:
    return self._core

  def initial_state(self, batch_size: int, **kwargs):
    return self._core.initial_state(batch_size, **kwargs)

  @property
  def latent_noise_size(self):
    """N if the core samples a latent z with noise [B, N] (RPTH), else None.

    Passing that noise explicitly (`noise=` of `__call__`, `select_action`
    and `unroll`) makes a step replayable: the learner's unroll with the
    actor's noise reproduces the actor's z and logits.
    """
    return getattr(self._core, 'num_dimensions', None) if isinstance(
        self._core, RPTH) else None

  def _core_inputs(self, embedding, noise):
    if noise is None:
      return embedding
    if self.latent_noise_size is None:
      raise ValueError('noise is only for a core that samples a latent '
                       f'(RPTH), not {type(self._core).__name__}.')
    return RPTHInput(embedding, noise)

  def __call__(self, inputs: types.OAR, prev_state,
               noise=None) -> Tuple[FtwOutput, Any]:
    """One step: OAR [B, ...] -> (FtwOutput with [B, ...] fields, new state).

    `noise` [B, N]: the latent sampling noise of an RPTH core (optional).
    """
    embedding = self._embed(inputs)
    core_output, state = self._core(self._core_inputs(embedding, noise),
                                    prev_state)
    policy_logits, value = self._head(auxiliary.core_features(core_output))
    return FtwOutput(policy_logits, value, core_output), state

  def select_action(self, inputs: types.OAR, state, greedy: bool = False,
                    noise=None):
    """Picks actions for one step.

    Args:
      inputs: OAR with [B, ...] leaves.
      state: Core state for batch size B.
      greedy: If True take the argmax of the policy, else sample from it.
      noise: Optional [B, N] latent sampling noise (see latent_noise_size).

    Returns:
      (actions int32 [B] (or [B, G] for G action groups, each group's action
      chosen from its own softmax), policy_logits [B, A], new_state).
    """
    output, state = self(inputs, state, noise=noise)
    logits = output.policy_logits
    if not self.multi_discrete:
      return _choose(logits, greedy), logits, state
    groups = tf.split(logits, self._action_sizes, axis=-1)
    actions = tf.stack([_choose(g, greedy) for g in groups], axis=-1)
    return actions, logits, state

  def unroll(self, inputs: types.OAR, states=None, *, state=None,
             noise=None) -> Tuple[FtwOutput, Any]:
    """Efficient unroll over a sequence.

    The embedding and heads run once over all T * B inputs (snt.BatchApply);
    only the core steps through time (unroll.dynamic_unroll).

    Args:
      inputs: OAR with time-major [T, B, ...] leaves.
      states: Core state at the first step (batch size B), the seed API's
        keyword; `state=` is accepted too.
      noise: Optional [T, B, N] latent sampling noise of an RPTH core (the
        actor's, to replay its z exactly).

    Returns:
      (FtwOutput with [T, B, ...] fields, core state after the last step).
    """
    if (states is None) == (state is None):
      raise ValueError('unroll needs the initial core state, as `states` '
                       '(or `state`), exactly once.')
    states = states if states is not None else state
    embeddings = snt.BatchApply(self._embed)(inputs)  # [T, B, D]
    core_outputs, final_state = unroll.dynamic_unroll(
        self._core, self._core_inputs(embeddings, noise), states)
    features = auxiliary.core_features(core_outputs)  # [T, B, F]
    policy_logits, value = snt.BatchApply(self._head)(features)
    return FtwOutput(policy_logits, value, core_outputs), final_state

  def pixel_control_values(self, features: tf.Tensor) -> tf.Tensor:
    """Pixel control Q-values from core features.

    Args:
      features: [T, B, F] (or [B, F]) features, e.g. FtwOutput.features.

    Returns:
      Q-values [T, B, 20, 20, A] (or [B, 20, 20, A]); for a multi-discrete
      action space one Q-function per group, concatenated (see
      auxiliary.PixelControl).

    Raises:
      ValueError: If the network was built with pixel_control=False, or
        `features` is not rank 2 or 3.
    """
    if self._pixel_control is None:
      raise ValueError('pixel_control_values needs a network built with '
                       'pixel_control=True.')
    if features.shape.rank == 2:
      return self._pixel_control(features)
    if features.shape.rank != 3:
      raise ValueError(
          f'features must have shape [T, B, F] or [B, F], got '
          f'{features.shape}.')
    return snt.BatchApply(self._pixel_control)(features)

  def reward_prediction_logits(self, frames: tf.Tensor) -> tf.Tensor:
    """Reward prediction logits from k consecutive frames.

    Args:
      frames: [B, k, H, W, C] frames (k = 3 as in UNREAL).

    Returns:
      Logits [B, 3] over (zero, negative, positive) reward.

    Raises:
      ValueError: If the network was built with reward_prediction=False, or
        `frames` is not rank 5.
    """
    if self._reward_prediction is None:
      raise ValueError('reward_prediction_logits needs a network built with '
                       'reward_prediction=True.')
    return self._reward_prediction(frames)


def _choose(logits: tf.Tensor, greedy: bool) -> tf.Tensor:
  """int32 [B] actions from logits [B, A]: the argmax, or a sample."""
  if greedy:
    return tf.argmax(logits, axis=-1, output_type=tf.int32)
  return tf.random.categorical(logits, 1, dtype=tf.int32)[:, 0]
