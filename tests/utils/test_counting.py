"""Counter semantics: prefixes, forwarding to the parent, save/restore."""

import threading

import pytest

from ftw.utils import counting


def test_child_counts_reach_parent_with_prefix():
  root = counting.Counter()
  actor = counting.Counter(root, "actor")
  learner = counting.Counter(root, "learner")
  actor.increment(steps=16, episodes=2)
  actor.increment(steps=16)
  learner.increment(steps=1)
  assert root.get_counts() == {"actor_steps": 32, "actor_episodes": 2,
                               "learner_steps": 1}
  # A child reports the job's counts, held by the root.
  assert actor.get_counts() == root.get_counts()


def test_root_with_prefix_reports_prefixed_keys():
  c = counting.Counter(prefix="learner")
  c.increment(steps=3)
  assert c.get_counts() == {"learner_steps": 3}


def test_save_restore_round_trip():
  root = counting.Counter()
  counting.Counter(root, "actor").increment(steps=5)
  state = root.save()
  fresh = counting.Counter()
  fresh.restore(state)
  assert fresh.get_counts() == {"actor_steps": 5}
  counting.Counter(fresh, "actor").increment(steps=1)
  assert fresh.get_counts()["actor_steps"] == 6


def test_increments_from_threads_are_not_lost():
  root = counting.Counter()

  def work():
    for _ in range(1000):
      root.increment(steps=1)

  threads = [threading.Thread(target=work) for _ in range(4)]
  for t in threads:
    t.start()
  for t in threads:
    t.join()
  assert root.get_counts()["steps"] == 4000


def test_bad_values_raise():
  with pytest.raises(ValueError, match="steps"):
    counting.Counter().increment(steps="many")
  with pytest.raises(ValueError, match="parent"):
    counting.Counter(parent=object())
