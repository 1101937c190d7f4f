"""ganlib.schedules: CycleGAN's linear learning-rate decay (lesson 06)."""

import pytest
import torch
from torch import nn

from ganlib.schedules import linear_decay, linear_decay_factor


def test_linear_decay_factor_by_hand():
    assert [linear_decay_factor(t, 3, 4) for t in range(9)] == [1, 1, 1, 1, 0.75, 0.5, 0.25, 0, 0]
    assert linear_decay_factor(0, 0, 1) == 1 and linear_decay_factor(1, 0, 1) == 0


def test_linear_decay_schedule_drives_the_optimizer():
    opt = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=0.2)
    sched = linear_decay(opt, n_constant=100, n_decay=100)
    assert isinstance(sched, torch.optim.lr_scheduler.LRScheduler)  # what the Trainer steps from its state
    lrs = []
    for _ in range(200):  # the paper: 100 epochs at the initial rate, 100 decaying to zero
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert lrs[0] == lrs[100] == pytest.approx(0.2)
    assert lrs[101] == pytest.approx(0.2 * 0.99) and lrs[150] == pytest.approx(0.1)
    assert lrs[199] == pytest.approx(0.2 / 100)  # the last step uses 1 / n_decay of the initial rate
    assert opt.param_groups[0]["lr"] == 0.0
    assert all(x >= y for x, y in zip(lrs, lrs[1:]))


def test_linear_decay_state_dict_resumes_the_schedule():
    def run(steps, state=None):
        opt = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=0.2)
        sched = linear_decay(opt, n_constant=2, n_decay=8)
        if state is not None:
            sched.load_state_dict(state)
        for _ in range(steps):
            opt.step()
            sched.step()
        return sched

    first = run(5)
    resumed = run(0, first.state_dict())
    assert resumed.last_epoch == 5 and resumed.get_last_lr() == pytest.approx([0.2 * (1 - 3 / 8)])


@pytest.mark.parametrize("args, match", [((-1, 5), "n_constant must be a whole number >= 0; got -1"),
                                         ((2.0, 5), "n_constant must be a whole number >= 0; got 2.0"),
                                         ((5, 0), "n_decay must be a positive integer; got 0"),
                                         ((5, 2.5), "n_decay must be a positive integer; got 2.5")])
def test_linear_decay_bad_arguments(args, match):
    opt = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=0.1)
    with pytest.raises(ValueError, match=match):
        linear_decay(opt, *args)
    with pytest.raises(ValueError, match=match):
        linear_decay_factor(0, *args)
    assert opt.param_groups[0]["lr"] == 0.1 and "initial_lr" not in opt.param_groups[0]  # refused before touching it
