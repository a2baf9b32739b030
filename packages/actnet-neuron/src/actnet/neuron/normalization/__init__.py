"""Normalization: layer, RMS, batch and group norm."""
