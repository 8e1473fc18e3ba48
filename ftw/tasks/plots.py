"""PNG plots of one evaluation sequence: inputs, targets, outputs, memory use.

Every panel has time on the x axis. Memory panels show the write and read
weightings over the memory slots and, for the DNC, the usage of each slot;
for the NTM (which has no usage) the L2 norm of each memory row instead.
"""

from typing import List, Optional, Sequence, Tuple

import matplotlib

matplotlib.use("Agg")  # files only, no display needed
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
import numpy as np  # noqa: E402

Panel = Tuple[str, np.ndarray]  # (title, [rows, T] image)


def memory_panels(states: Sequence, index: int = 0) -> List[Panel]:
  """Panels of the memory's per-step weightings for sequence `index`.

  Args:
    states: per-step core states; `DNCState`s (DNC or NTM access) give
      memory panels, anything else (an LSTM state) gives none.
    index: which batch entry to show.

  Returns:
    A list of (title, [memory_size, T]) images.
  """
  access = [getattr(s, "access_state", None) for s in states]
  if not access or access[0] is None:
    return []

  def stacked(field):  # [T, heads, N] for one batch entry
    return np.stack([np.asarray(getattr(a, field))[index] for a in access])

  panels = []
  writes, reads = stacked("write_weights"), stacked("read_weights")
  for h in range(writes.shape[1]):
    panels.append((f"write weights (head {h})", writes[:, h].T))
  for h in range(reads.shape[1]):
    panels.append((f"read weights (head {h})", reads[:, h].T))
  if hasattr(access[0], "usage"):
    panels.append(("usage", stacked("usage").T))
  else:
    memory = stacked("memory")  # [T, N, W]
    panels.append(("memory row norm", np.linalg.norm(memory, axis=-1).T))
  return panels


def plot_sequence(path: str, inputs: np.ndarray, targets: np.ndarray,
                  outputs: np.ndarray, mask: np.ndarray,
                  panels: Optional[List[Panel]] = None, title: str = "") -> str:
  """Saves a column of heat maps for one sequence and returns `path`.

  Args:
    path: the PNG file to write.
    inputs: [T, input_size] of one sequence.
    targets: [T, num_bits].
    outputs: [T, num_bits] sigmoid outputs in [0, 1].
    mask: [T], 1 where the output is scored; unscored outputs are greyed.
    panels: extra (title, [rows, T]) images, e.g. from `memory_panels`.
    title: figure title.
  """
  shown = np.where(mask[:, None] > 0, outputs, np.nan)
  rows = [("inputs", inputs.T, (0, 1)), ("targets", (targets * mask[:, None]).T, (0, 1)),
          ("outputs (scored steps)", shown.T, (0, 1))]
  rows += [(name, image, (0, max(float(np.max(image)), 1e-6))) for name, image in panels or []]
  heights = [max(2.0, image.shape[0] / 6) for _, image, _ in rows]
  fig, axes = plt.subplots(len(rows), 1, figsize=(8, sum(heights) * 0.55 + 1),
                           gridspec_kw={"height_ratios": heights}, squeeze=False)
  for ax, (name, image, (lo, hi)) in zip(axes[:, 0], rows):
    cmap = plt.get_cmap("viridis").with_extremes(bad="lightgrey")
    im = ax.imshow(image, aspect="auto", interpolation="nearest", cmap=cmap,
                   vmin=lo, vmax=hi)
    ax.set_title(name, fontsize=9, loc="left")
    ax.set_ylabel("channel" if name == "inputs" else
                  "bit" if name == "targets" or name.startswith("outputs") else "slot",
                  fontsize=8)
    ax.tick_params(labelsize=7)
    fig.colorbar(im, ax=ax, pad=0.01, fraction=0.03)
  axes[-1, 0].set_xlabel("time step", fontsize=8)
  if title:
    fig.suptitle(title, fontsize=10)
  fig.tight_layout()
  fig.savefig(path, dpi=90)
  plt.close(fig)
  return path
