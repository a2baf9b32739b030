"""Pooling over sliding windows (max, average)."""
