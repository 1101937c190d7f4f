"""ganlib.losses.l1_loss: the pixel loss of Pix2Pix and CycleGAN (lessons 05 and 06), which refuses to broadcast.

(The adversarial losses and the gradient penalty are tested in tests/core/test_losses.py.)
"""

import pytest
import torch
import torch.nn.functional as F

from ganlib.losses import l1_loss


def test_l1_loss_by_hand():
    a, b = torch.zeros(2, 1, 4, 4), torch.full((2, 1, 4, 4), 0.5)
    b[0, 0, 0, 0] = -1.5  # one pixel off by 1.5 instead of 0.5: mean = (31 * 0.5 + 1.5) / 32
    assert l1_loss(b, a).item() == pytest.approx((31 * 0.5 + 1.5) / 32)
    assert l1_loss(a, b).item() == l1_loss(b, a).item()
    assert l1_loss(a, a).item() == 0.0


def test_l1_loss_equals_pytorchs_for_equal_shapes():
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(3, 3, 8, 8, generator=g), torch.randn(3, 3, 8, 8, generator=g)
    assert torch.allclose(l1_loss(x, y), F.l1_loss(x, y))


def test_l1_loss_gradient_is_the_sign_over_the_count():
    output = torch.tensor([[0.5, -0.5, 2.0, 1.0]], requires_grad=True)
    l1_loss(output, torch.tensor([[0.0, 0.0, 0.0, 2.0]])).backward()
    assert torch.equal(output.grad, torch.tensor([[1.0, -1.0, 1.0, -1.0]]) / 4)


@pytest.mark.parametrize("output, target", [
    (torch.zeros(2, 1, 4, 4), torch.zeros(1, 1, 4, 4)),  # F.l1_loss would broadcast this (with a warning)
    (torch.zeros(2, 3, 4, 4), torch.zeros(2, 1, 4, 4)),
    (torch.zeros(4, 4), torch.zeros(4, 4, 1)),
])
def test_l1_loss_refuses_to_broadcast(output, target):
    with pytest.raises(ValueError) as info:
        l1_loss(output, target)
    assert str(info.value).startswith(f"l1_loss compares two batches of the same shape; got {tuple(output.shape)} "
                                      f"and {tuple(target.shape)}")
