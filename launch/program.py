"""The program of a distributed ftw job: which nodes run, and how they are placed.

A job is a small graph of nodes, as in Launchpad: one counter, one replay
server, one learner, one evaluator and `num_actors` actors. `make_program`
describes them as `NodeSpec`s (name, kind, restarts allowed, resources,
placement); `launch.distributed` turns each spec into a Ray actor of the
matching class in `launch.ray_nodes`. Keeping the description apart from Ray
lets a launcher print, check or test the layout without starting anything.

Placement rules:
  * the learner asks for one GPU when the cluster has one; every other node
    hides GPUs (`CUDA_VISIBLE_DEVICES=""`), so the learner owns them;
  * actors ask for one CPU each and are spread over the cluster's machines;
  * counter, replay, learner and evaluator share the learner's machine
    (replay traffic to the learner stays local) unless custom resources in
    `node_resources` pin them elsewhere.
"""

import dataclasses
from typing import Dict, List, Mapping, Optional

KINDS = ("counter", "replay", "learner", "evaluator", "actor")

# Start-up order: every node only needs the ones before it.
_ORDER = {kind: i for i, kind in enumerate(KINDS)}


@dataclasses.dataclass(frozen=True)
class NodeSpec:
  """One node of the program.

  Attributes:
    name: unique name, also the Ray actor name suffix ("learner", "actor_3").
    kind: one of KINDS.
    max_restarts: times Ray restarts the node's process after it dies; one
      more failure stops the job with an error naming the node.
    num_cpus: logical CPUs Ray reserves for the node.
    num_gpus: GPUs Ray reserves (only the learner asks for one).
    hide_gpus: sets CUDA_VISIBLE_DEVICES="" in the node's process.
    resources: custom Ray resources the node needs (pins it to machines
      started with them, e.g. `ray start --resources='{"actor_node": 8}'`).
    spread: spread nodes of this kind over machines (Ray SPREAD strategy).
    colocate_with_learner: prefer the learner's machine.
    actor_id: index of an actor node, else None.
  """
  name: str
  kind: str
  max_restarts: int
  num_cpus: float
  num_gpus: float = 0.0
  hide_gpus: bool = True
  resources: Mapping[str, float] = dataclasses.field(default_factory=dict)
  spread: bool = False
  colocate_with_learner: bool = False
  actor_id: Optional[int] = None


def _check_resources(node_resources: Mapping[str, Mapping[str, float]]):
  if not isinstance(node_resources, Mapping):
    raise ValueError("node_resources must map a node kind to {resource: amount}"
                     f", got {node_resources!r}")
  for kind, resources in node_resources.items():
    if kind not in KINDS:
      raise ValueError(f"node_resources: unknown node kind {kind!r}; kinds are "
                       f"{KINDS}")
    if not isinstance(resources, Mapping) or not all(
        isinstance(k, str) and isinstance(v, (int, float)) and v > 0
        for k, v in resources.items()):
      raise ValueError(f"node_resources[{kind!r}] must map resource names to "
                       f"amounts > 0, got {resources!r}")


def make_program(num_actors: int, max_restarts: int = 3,
                 learner_gpu: bool = False,
                 node_resources: Optional[Mapping[str, Mapping[str, float]]]
                 = None) -> List[NodeSpec]:
  """Describes the nodes of a job, in start-up order.

  Args:
    num_actors: >= 1 actor nodes.
    max_restarts: >= 0 restarts allowed per learner, actor and evaluator node.
      The counter and the replay server hold state the others point at (the
      job's counts, the queue's address), so they are never restarted: their
      death stops the job.
    learner_gpu: reserve one GPU for the learner.
    node_resources: optional custom resources per node kind, e.g.
      {"actor": {"actor_node": 1}, "replay": {"replay_node": 1}}.

  Returns:
    The NodeSpecs: counter, replay, learner, evaluator, actor_0..N-1.

  Raises:
    ValueError: on a bad argument.
  """
  if not isinstance(num_actors, int) or isinstance(num_actors, bool) or (
      num_actors < 1):
    raise ValueError(f"num_actors must be an int >= 1, got {num_actors!r}")
  if not isinstance(max_restarts, int) or max_restarts < 0:
    raise ValueError(f"max_restarts must be an int >= 0, got {max_restarts!r}")
  node_resources = dict(node_resources or {})
  _check_resources(node_resources)

  def spec(name, kind, **kwargs):
    return NodeSpec(name=name, kind=kind,
                    resources=dict(node_resources.get(kind, {})), **kwargs)

  nodes = [
      spec("counter", "counter", max_restarts=0, num_cpus=0,
           colocate_with_learner=True),
      spec("replay", "replay", max_restarts=0, num_cpus=0,
           colocate_with_learner=True),
      spec("learner", "learner", max_restarts=max_restarts, num_cpus=1,
           num_gpus=1.0 if learner_gpu else 0.0, hide_gpus=not learner_gpu,
           colocate_with_learner=True),
      spec("evaluator", "evaluator", max_restarts=max_restarts, num_cpus=0,
           colocate_with_learner=True),
  ]
  nodes += [spec(f"actor_{i}", "actor", max_restarts=max_restarts, num_cpus=1,
                 spread=True, actor_id=i) for i in range(num_actors)]
  assert [_ORDER[n.kind] for n in nodes] == sorted(_ORDER[n.kind] for n in nodes)
  return nodes


def required_cpus(nodes: List[NodeSpec]) -> int:
  """Logical CPUs a local Ray cluster needs to place every node."""
  return max(1, int(sum(n.num_cpus for n in nodes) + 0.999))


def by_name(nodes: List[NodeSpec]) -> Dict[str, NodeSpec]:
  return {n.name: n for n in nodes}
