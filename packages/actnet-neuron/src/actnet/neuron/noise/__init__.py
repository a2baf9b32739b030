"""Noise: random regularisers (dropout), drawn from the counter-based generator."""
