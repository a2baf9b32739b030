"""Convolutions: im2col over a strided view, then one matrix product."""
