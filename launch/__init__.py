"""Launchers: local single-process training and distributed training on Ray."""
