"""Agents built from ftw's networks, losses and replay."""
