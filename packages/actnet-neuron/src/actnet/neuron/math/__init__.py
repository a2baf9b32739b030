"""Arithmetic, matrix products and reductions: torch's namesakes (torch.add,
torch.matmul, torch.sum, torch.einsum, ...), differentiable."""
