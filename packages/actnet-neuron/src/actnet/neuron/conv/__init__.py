"""Convolutions (im2col over a strided view, then one matrix product) and
transposed convolutions (one matrix product, then col2im)."""
