"""Supervised memory tasks (copy, repeat-copy) and their training loop."""

from ftw.tasks.copy import CopyBatch, CopyTask, RepeatCopyTask, bit_error, cost

__all__ = ["CopyBatch", "CopyTask", "RepeatCopyTask", "bit_error", "cost"]
