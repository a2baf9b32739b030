"""Code ported from PyTorch reaches torch.nn and torch.optim through `torch`
(actnet.tensor, under the porting rule): importing actnet.nn registers them."""

from __future__ import annotations

import actnet.nn
import actnet.nn.functional
import actnet.nn.optim
import actnet.tensor as torch  # as ported code names it


def test_torch_nn_and_torch_optim_are_actnet_nn_and_its_optim() -> None:
    assert torch.nn is actnet.nn
    assert torch.optim is actnet.nn.optim
    assert torch.nn.functional is actnet.nn.functional
    assert torch.nn.utils.clip_grad_norm_ is actnet.nn.utils.clip_grad_norm_
    assert torch.optim.lr_scheduler.StepLR is actnet.nn.optim.lr_scheduler.StepLR
