"""Timing and table helpers shared by the agent benchmarks in bench/.

The machine is shared, so every script prints the load average at its start
and end (`load_line`); results are printed as small tables (`format_table`).
"""

import os
from typing import List, Sequence


def load_line(label: str) -> str:
  """'label: load average 1/5/15 min a, b, c on N cores'."""
  one, five, fifteen = os.getloadavg()
  return (f"{label}: load average {one:.2f}, {five:.2f}, {fifteen:.2f} "
          f"(1/5/15 min) on {os.cpu_count()} cores")


def start_with_config_pools(config, who: str = "bench") -> None:
  """Gives TensorFlow the config's thread pools (intra_op_threads,
  inter_op_threads) and prints the start line with them."""
  from ftw.utils import tf_threads  # pylint: disable=g-import-not-at-top
  tf_threads.set_tensorflow_threads(config.intra_op_threads,
                                    config.inter_op_threads, who)
  print(load_line("start"), f"TensorFlow pools {tf_threads.pools()}",
        flush=True)


def format_table(header: Sequence[str], rows: List[Sequence[str]]) -> str:
  """Right-aligned columns (the first left-aligned), one line per row."""
  widths = [max(len(str(r[i])) for r in [header, *rows])
            for i in range(len(header))]
  def line(cells):
    first = f"{str(cells[0]):<{widths[0]}}"
    rest = [f"{str(c):>{w}}" for c, w in zip(cells[1:], widths[1:])]
    return "  ".join([first, *rest])
  rule = "-" * len(line(header))
  return "\n".join([line(header), rule, *[line(r) for r in rows]])
