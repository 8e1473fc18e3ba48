"""Real distributed runs on Ray: placement, faults, limits and shutdown.

Every test starts real processes (Ray workers with TensorFlow, a Reverb
server) on a tiny Catch config; the runs are kept short, so the file takes a
few minutes on a loaded 2-core machine.
"""

import os
import re
import signal
import subprocess
import sys
import threading
import time

import psutil
import pytest
import ray
from ray import cluster_utils

import ftw  # noqa: F401
from agents.ftw.config import FtwConfig
from ftw.utils.loggers import read_csv
from launch import distributed
from launch import program

_REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
_TINY = dict(environment="catch", environment_kwargs={"rows": 5}, num_envs=2,
             core="lstm", hidden_size=16, torso_hidden_size=32,
             head_hidden_size=16, memory_size=None, sequence_length=5,
             batch_size=2, queue_size=8, reward_prediction_batch_size=2,
             eval_episodes=2, variable_update_period=5, log_every_seconds=5.0)


def _rows(path):
  return read_csv(path, missing_ok=True)  # The node may not have logged yet.


def _wait_for(predicate, timeout, what):
  deadline = time.monotonic() + timeout
  while time.monotonic() < deadline:
    value = predicate()
    if value:
      return value
    time.sleep(0.5)
  raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def _all_gone(pids, timeout=20.0):
  _wait_for(lambda: not [p for p in pids if psutil.pid_exists(p) and
                         psutil.Process(p).status() != psutil.STATUS_ZOMBIE],
            timeout, f"processes {sorted(pids)} to exit")


# ---------------------------------------------------------------- program


def test_program_lists_nodes_in_start_order_with_placement():
  nodes = program.make_program(3, max_restarts=2, learner_gpu=True,
                               node_resources={"actor": {"actor_node": 1}})
  assert [n.name for n in nodes] == ["counter", "replay", "learner",
                                     "evaluator", "actor_0", "actor_1",
                                     "actor_2"]
  spec = program.by_name(nodes)
  assert spec["learner"].num_gpus == 1 and not spec["learner"].hide_gpus
  assert all(n.hide_gpus for n in nodes if n.kind != "learner")
  assert [n.actor_id for n in nodes if n.kind == "actor"] == [0, 1, 2]
  assert all(n.spread and n.resources == {"actor_node": 1}
             for n in nodes if n.kind == "actor")
  assert spec["replay"].max_restarts == 0 and spec["actor_1"].max_restarts == 2
  assert program.required_cpus(nodes) == 4  # learner + 3 actors


@pytest.mark.parametrize("kwargs, message", [
    (dict(num_actors=0), "num_actors"),
    (dict(num_actors=1, max_restarts=-1), "max_restarts"),
    (dict(num_actors=1, node_resources={"gpu_box": {"x": 1}}), "unknown node"),
    (dict(num_actors=1, node_resources={"actor": {"x": 0}}), "amounts > 0"),
])
def test_program_rejects_bad_arguments(kwargs, message):
  with pytest.raises(ValueError, match=message):
    program.make_program(**kwargs)


# ------------------------------------- local cluster via the command line


class _Driver:
  """`python -m launch.distributed` in a subprocess; collects its output."""

  def __init__(self, args):
    self.lines = []
    self.proc = subprocess.Popen(
        [sys.executable, "-m", "launch.distributed"] + args, cwd=_REPO,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True)
    threading.Thread(target=self._read, daemon=True).start()

  def _read(self):
    for line in self.proc.stdout:
      self.lines.append(line)

  def wait_line(self, pattern, timeout, start=0):
    def find():
      for line in self.lines[start:]:
        match = re.search(pattern, line)
        if match:
          return match
      if self.proc.poll() is not None:
        raise AssertionError(f"driver exited ({self.proc.returncode}) before "
                             f"{pattern!r}:\n" + "".join(self.lines[-40:]))
      return None
    return _wait_for(find, timeout, f"a line matching {pattern!r}")


def test_cli_survives_actor_and_learner_deaths_and_sigterm_leaves_nothing(
    tmp_path):
  config_file = tmp_path / "tiny.py"
  config_file.write_text(
      "from agents.ftw.config import FtwConfig\n"
      f"def get_config():\n  return FtwConfig(**{_TINY!r}, "
      "checkpoint_every_seconds=2.0, eval_every_seconds=600.0)\n")
  logdir = tmp_path / "run"
  driver = _Driver([f"--config={config_file}", "--num_actors=2",
                    f"--logdir={logdir}", "--max_seconds=900",
                    "--max_restarts=2", "--num_cpus=4"])
  try:
    up = driver.wait_line(r"nodes up in .*", 240)
    pids = {name: int(pid) for name, pid in
            re.findall(r"(\w+) pid=(\d+)@", up.group(0))}
    assert set(pids) == {"counter", "replay", "learner", "evaluator",
                         "actor_0", "actor_1"}
    daemons = {p.pid for p in
               psutil.Process(driver.proc.pid).children(recursive=True)}
    seen = set(pids.values()) | daemons

    # An actor process dies: Ray restarts it and it writes again.
    actor_csv = logdir / "actor_0" / "logs.csv"
    _wait_for(lambda: _rows(actor_csv), 120, "actor_0 to log an episode")
    os.kill(pids["actor_0"], signal.SIGKILL)
    restart = driver.wait_line(r"node actor_0 restarted \(pid (\d+) -> (\d+)",
                               180)
    assert int(restart.group(1)) == pids["actor_0"]
    seen.add(int(restart.group(2)))
    before = len(_rows(actor_csv))
    # The killed process may die with up to 0.5 s of counts not yet sent to
    # the counter node, so compare the restarted actor's rows among
    # themselves: its step count grows while it logs new episodes.
    _wait_for(lambda: len(_rows(actor_csv)) >= before + 2, 120,
              "the restarted actor_0 to log two episodes")
    new_rows = _rows(actor_csv)[before:]
    assert (int(new_rows[-1]["actor_0_steps"]) >
            int(new_rows[0]["actor_0_steps"]))

    # The learner dies after a checkpoint: it comes back from the checkpoint
    # and its step count continues from the counter node (not from zero).
    learner_csv = logdir / "learner" / "logs.csv"
    _wait_for(lambda: list((logdir / "checkpoints").glob("ckpt-*.index")),
              120, "a learner checkpoint")
    steps_before = max(int(r["learner_steps"]) for r in _rows(learner_csv))
    lines_before = len(driver.lines)
    os.kill(pids["learner"], signal.SIGKILL)
    restart = driver.wait_line(r"node learner restarted \(pid (\d+) -> (\d+)",
                               180, start=lines_before)
    seen.add(int(restart.group(2)))
    driver.wait_line(r"\[learner\] restored .*ckpt-\d+ \(restart\)", 60,
                     start=lines_before)
    rows_before = len(_rows(learner_csv))
    after = _wait_for(lambda: _rows(learner_csv)[rows_before:], 120,
                      "the restarted learner to train")
    assert int(after[0]["learner_steps"]) > steps_before

    # SIGTERM: every node and Ray daemon is gone shortly after the driver.
    seen |= {p.pid for p in
             psutil.Process(driver.proc.pid).children(recursive=True)}
    driver.proc.send_signal(signal.SIGTERM)
    assert driver.proc.wait(timeout=90) == 0, "".join(driver.lines[-30:])
    assert any("interrupted" in line for line in driver.lines)
    _all_gone(seen)
  finally:
    if driver.proc.poll() is None:
      os.killpg(driver.proc.pid, signal.SIGKILL)


# ------------------------------------------- simulated two-machine cluster


@pytest.fixture(scope="module")
def two_node_cluster():
  """Head with {'replay_node': 1}; a second node with {'actor_node': 2}."""
  cluster = cluster_utils.Cluster(
      initialize_head=True,
      head_node_args={"num_cpus": 2, "resources": {"replay_node": 1},
                      "include_dashboard": False})
  worker = cluster.add_node(num_cpus=2, resources={"actor_node": 2})
  ray.init(address=cluster.address)
  yield cluster, worker.node_id
  ray.shutdown()
  cluster.shutdown()


def _job_names(job):
  return [n for n in ray.util.list_named_actors() if n.startswith(job.run_id)]


def test_two_node_run_places_actors_away_from_replay_and_completes(
    two_node_cluster, tmp_path):
  _, actor_node_id = two_node_cluster
  # More evaluation episodes than actor rows: the evaluator's actor must
  # have as many rows as its own environments (it once had num_envs).
  config = FtwConfig(**{**_TINY, "eval_episodes": 3}, max_learner_steps=12,
                     eval_every_seconds=600.0, intra_op_threads=1,
                     inter_op_threads=2)
  jobs = []
  summary = distributed.train(
      config, str(tmp_path), num_actors=2, address="auto",
      node_resources={"actor": {"actor_node": 1},
                      "replay": {"replay_node": 1}},
      on_poll=lambda job: jobs.append(job) and False)
  nodes = summary["nodes"]
  replay_node = nodes["replay"]["node_id"]
  assert replay_node != actor_node_id
  for name in ("actor_0", "actor_1"):
    assert nodes[name]["node_id"] == actor_node_id
    assert summary[f"{name}_steps"] > 0
  assert summary["actor_0_steps"] + summary["actor_1_steps"] == (
      summary["actor_steps"])
  assert summary["learner_steps"] == 12
  assert nodes["learner"]["steps"] == 12
  assert summary["restarts"] == {n: 0 for n in nodes}
  # Stopped loops let go of the replay readers and the actors' games.
  assert nodes["learner"]["closed"] is True
  assert nodes["actor_0"]["env_closed"] is nodes["actor_1"]["env_closed"] is True
  # The learner's TensorFlow pools are the config's; actors keep to one each.
  assert tuple(nodes["learner"]["tf_threads"]) == (1, 2)
  assert tuple(nodes["actor_0"]["tf_threads"]) == (1, 1)
  assert os.path.exists(summary["checkpoint"] + ".index")
  for node in ("learner", "actor_0", "actor_1"):
    assert _rows(tmp_path / node / "logs.csv"), node
  evaluations = _rows(tmp_path / "evaluator" / "logs.csv")
  assert len(evaluations) == 1  # The final one (periodic ones are off).
  assert {"episode_return", "actor_steps"} <= set(evaluations[0])
  assert float(evaluations[0]["episode_return"]) == summary["eval_return"]
  assert int(evaluations[0]["episodes"]) == 3
  assert int(evaluations[0]["learner_steps"]) == 12
  # Joined cluster: the job removed its own nodes and left the cluster up.
  _wait_for(lambda: not _job_names(jobs[0]), 30, "the job's actors to go")
  _all_gone({s["pid"] for s in nodes.values()})
  assert ray.is_initialized()


def test_node_dying_more_than_max_restarts_stops_the_job(two_node_cluster,
                                                         tmp_path):
  config = FtwConfig(**_TINY, eval_every_seconds=600.0)
  killed, jobs = [], []

  def kill_actor(job):
    jobs.append(job)
    pid = job.statuses["actor_0"]["pid"]
    if pid not in killed:
      killed.append(pid)
      os.kill(pid, signal.SIGKILL)
    return False

  started = time.monotonic()
  with pytest.raises(distributed.NodeFailedError,
                     match=r"node 'actor_0' failed more than max_restarts=1"):
    distributed.train(config, str(tmp_path), num_actors=1, address="auto",
                      max_restarts=1,
                      node_resources={"actor": {"actor_node": 1}},
                      on_poll=kill_actor)
  assert len(killed) == 2  # The first death was restarted, the second not.
  assert time.monotonic() - started < 240
  _wait_for(lambda: not _job_names(jobs[0]), 30, "the job's actors to go")
