"""Connections: the learned maps of layers (linear, embedding)."""
