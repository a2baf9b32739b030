"""Shapes, joins, splits and indexing: torch's namesakes (torch.reshape,
torch.cat, torch.split, torch.gather, torch.where, ...), differentiable."""
