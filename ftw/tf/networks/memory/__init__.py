"""Memory augmentations as Sonnet 2 cores, after AgentNet's `agentnet.memory`.

A differentiable stack (`StackAugmentation`, `StackRNN`), a window of past
inputs (`WindowCore`), attention over a sequence (`AdditiveAttention`,
`DotProductAttention`) or over a core's own past (`WindowAttentionCore`), and a
looping step counter (`CounterCore`).
"""

from ftw.tf.networks.memory.attention import AdditiveAttention
from ftw.tf.networks.memory.attention import DotProductAttention
from ftw.tf.networks.memory.attention import masked_softmax
from ftw.tf.networks.memory.attention import WindowAttentionCore
from ftw.tf.networks.memory.counter import CounterCore
from ftw.tf.networks.memory.counter import CounterState
from ftw.tf.networks.memory.stack import NO_OP
from ftw.tf.networks.memory.stack import POP
from ftw.tf.networks.memory.stack import PUSH
from ftw.tf.networks.memory.stack import StackAugmentation
from ftw.tf.networks.memory.stack import StackRNN
from ftw.tf.networks.memory.stack import StackRNNState
from ftw.tf.networks.memory.stack import StackState
from ftw.tf.networks.memory.stack import update_stack
from ftw.tf.networks.memory.window import push_to_window
from ftw.tf.networks.memory.window import window_mask
from ftw.tf.networks.memory.window import WindowCore
from ftw.tf.networks.memory.window import WindowState
