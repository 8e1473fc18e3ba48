"""Builds a complete FtwNetwork from a few sizes.

torso (FtwTorso) -> OAREmbedding (one-hot previous action, previous reward,
optional internal rewards) -> core (RPTH with a shared DNC MemoryAccess, as
in FTW, or a plain snt.LSTM) -> policy/value, pixel control and reward
prediction heads.
"""

from typing import Optional, Sequence, Union

import sonnet as snt

from ftw.tf.networks import defaults
from ftw.tf.internal_reward.ftw_internal_reward import InternalRewards
from ftw.tf.networks.dnc.access import MemoryAccess
from ftw.tf.networks.embedding import OAREmbedding
from ftw.tf.networks.ftw_network import FtwNetwork
from ftw.tf.networks.argument_checks import check_num_actions
from ftw.tf.networks.argument_checks import check_positive_int
from ftw.tf.networks.recurrence import RPTH
from ftw.tf.networks.vision import FilterSpec, FtwTorso

CORES = ('rpth', 'lstm')


def make_ftw_network(
    num_actions: Union[int, Sequence[int]],
    torso_hidden: int = defaults.TORSO_HIDDEN_SIZE,
    core: str = 'rpth',
    rpth_period: Union[int, Sequence[int]] = defaults.RPTH_PERIOD,
    hidden_size: int = defaults.HIDDEN_SIZE,
    num_dimensions: int = defaults.NUM_DIMENSIONS,
    memory_size: Optional[int] = defaults.MEMORY_SIZE,
    word_size: int = defaults.WORD_SIZE,
    num_reads: int = defaults.NUM_READS,
    num_writes: int = defaults.NUM_WRITES,
    head_hidden_size: int = defaults.HEAD_HIDDEN_SIZE,
    conv_filters: Sequence[FilterSpec] = defaults.CONV_FILTERS,
    residual_filters: Sequence[FilterSpec] = defaults.RESIDUAL_FILTERS,
    embedding_num_actions: Optional[Union[int, Sequence[int]]] = None,
    internal_rewards: Optional[InternalRewards] = None,
    pixel_control: bool = True,
    reward_prediction: bool = True,
    normalize_inputs: bool = False,
    torso_dtype: str = 'float32',
    name: str = 'simple_ftw_network') -> FtwNetwork:
  """Builds an FtwNetwork.

  Args:
    num_actions: Number of actions of a discrete policy (an int), or the
      number of actions of each group of a multi-discrete one (a sequence of
      ints: one softmax per group, logits concatenated; see FtwNetwork).
    torso_hidden: Output size of the FtwTorso.
    core: 'rpth' (FTW's temporal hierarchy) or 'lstm' (snt.LSTM(hidden_size)).
    rpth_period: Slow-core period(s) of RPTH (only for core='rpth').
    hidden_size: LSTM hidden size (of every RPTH core, or of the plain LSTM).
    num_dimensions: Size of RPTH's latent z (the features fed to the heads).
    memory_size: Number of DNC memory slots shared by the RPTH cores; None
      disables the memory (then word_size/num_reads/num_writes are unused).
      Only for core='rpth'.
    word_size: Width of each memory slot.
    num_reads: Number of memory read heads.
    num_writes: Number of memory write heads.
    head_hidden_size: Hidden size of the policy and value layers.
    conv_filters: FtwTorso's (channels, kernel, stride) conv triples.
    residual_filters: FtwTorso's residual block triples.
    embedding_num_actions: Action sizes for the previous-action one-hot in the
      embedding when they differ from the policy's (e.g. a multi-discrete
      sequence); defaults to num_actions.
    internal_rewards: Optional InternalRewards applied to the previous reward.
    pixel_control: Whether to build the pixel control head.
    reward_prediction: Whether to build the reward prediction head.
    normalize_inputs: Whether FtwTorso standardises pixels with running
      statistics (see FtwTorso).
    torso_dtype: FtwTorso's compute_dtype: 'float32' or 'bfloat16'.
    name: Name of the FtwNetwork.

  Returns:
    The FtwNetwork (variables are created on its first call).

  Raises:
    ValueError: For an unknown `core` or bad sizes (each check names the
      argument).
  """
  if core not in CORES:
    raise ValueError(f'core must be one of {CORES}, got {core!r}.')
  num_actions = check_num_actions('num_actions', num_actions)
  check_positive_int('hidden_size', hidden_size)
  torso = FtwTorso(conv_filters=conv_filters,
                   residual_filters=residual_filters, hidden_size=torso_hidden,
                   normalize_inputs=normalize_inputs,
                   compute_dtype=torso_dtype)
  if embedding_num_actions is None:
    embedding_num_actions = num_actions
  embed = OAREmbedding(torso, embedding_num_actions, internal_rewards)
  if core == 'lstm':
    recurrent_core = snt.LSTM(hidden_size)
  else:
    memory = None
    if memory_size is not None:
      memory = MemoryAccess(memory_size=memory_size, word_size=word_size,
                            num_reads=num_reads, num_writes=num_writes)
    recurrent_core = RPTH(rpth_period, hidden_size=hidden_size,
                          num_dimensions=num_dimensions, shared_memory=memory)
  return FtwNetwork(embed, recurrent_core, num_actions,
                    head_hidden_size=head_hidden_size,
                    pixel_control=pixel_control,
                    reward_prediction=reward_prediction, name=name)
