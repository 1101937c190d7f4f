"""ganlib.validate: every input check accepts what it should, and each refusal names what was expected
and what came instead."""

import re

import numpy as np
import pytest
import torch

from ganlib.validate import (RANGE_SLACK, check_image_batch, check_image_shape, check_labels, check_noise,
                             check_positive, check_positive_number, check_range, check_same_shape)


def _message(fn, *args, error=ValueError, **kwargs):
    with pytest.raises(error) as info:
        fn(*args, **kwargs)
    return str(info.value)


# -- check_positive --------------------------------------------------------------------------------
def test_check_positive_accepts_positive_integers():
    assert check_positive(width=1, depth=5, n=10**9) is None


@pytest.mark.parametrize("value", [True, False, 0, -3, 1.5, 2.0, "3", None])
def test_check_positive_rejects_what_is_not_a_positive_integer(value):
    assert _message(check_positive, width=value) == f"width must be a positive integer; got {value!r}."


def test_check_positive_names_the_first_bad_keyword():
    assert _message(check_positive, z_dim=8, width=0, depth=-1).startswith("width must be")


# -- check_positive_number -------------------------------------------------------------------------
@pytest.mark.parametrize("value", [1, 0.01, 1e-12, 3.5])
def test_check_positive_number_accepts_finite_positive_numbers(value):
    assert check_positive_number(value, "c") is None


@pytest.mark.parametrize("value", [0, 0.0, -0.5, float("nan"), float("inf"), True, "0.1", None, torch.tensor(0.1)])
def test_check_positive_number_rejects_the_rest(value):
    message = _message(check_positive_number, value, "c")
    assert message == f"c must be a positive number; got {value!r}."


def test_check_positive_number_puts_the_hint_after_what_was_expected():
    message = _message(check_positive_number, -1.0, "lr", ", the learning rate")
    assert message == "lr must be a positive number, the learning rate; got -1.0."


# -- check_noise -----------------------------------------------------------------------------------
def test_check_noise_returns_flat_noise():
    z = torch.randn(3, 8)
    assert check_noise(z, 8, "G") is z
    dcgan_style = torch.randn(3, 8, 1, 1)
    flat = check_noise(dcgan_style, 8, "G")
    assert flat.shape == (3, 8) and torch.equal(flat, dcgan_style.view(3, 8))


@pytest.mark.parametrize("z, got", [
    (torch.zeros(2, 7), "(2, 7)"),
    (torch.zeros(2, 8, 2, 2), "(2, 8, 2, 2)"),
    (torch.zeros(8), "(8,)"),
    (torch.zeros(2, 8, 1), "(2, 8, 1)"),
    (torch.zeros(2, 7, 1, 1), "(2, 7, 1, 1)"),
    ([[0.0] * 8], "list"),
])
def test_check_noise_names_the_expected_shape_and_what_came(z, got):
    assert _message(check_noise, z, 8, "MyGenerator") == f"MyGenerator expects noise of shape (N, 8); got {got}."


# -- check_image_shape -----------------------------------------------------------------------------
def test_check_image_shape_accepts_matching_images():
    x = torch.zeros(2, 3, 16, 24)
    assert check_image_shape(x, "D", 3) is None  # any size
    assert check_image_shape(x, "D", 3, (16, 24)) is None
    assert check_image_shape(torch.zeros(2, 1, 28, 28), "D", 1, 28) is None  # an int: square


@pytest.mark.parametrize("x, channels, size, expected, got", [
    (torch.zeros(2, 1, 32, 32), 1, 28, "(N, 1, 28, 28)", "(2, 1, 32, 32)"),
    (torch.zeros(2, 1, 28, 28), 3, 28, "(N, 3, 28, 28)", "(2, 1, 28, 28)"),
    (torch.zeros(2, 3, 8, 8), 3, (8, 6), "(N, 3, 8, 6)", "(2, 3, 8, 8)"),
    (torch.zeros(1, 28, 28), 1, 28, "(N, 1, 28, 28)", "(1, 28, 28)"),
    (torch.zeros(2, 2, 9, 9), 1, None, "(N, 1, S, S)", "(2, 2, 9, 9)"),
    ("images", 1, None, "(N, 1, S, S)", "str"),
])
def test_check_image_shape_names_the_expected_shape_and_what_came(x, channels, size, expected, got):
    message = _message(check_image_shape, x, "PatchDiscriminator", channels, size)
    assert message == f"PatchDiscriminator expects images of shape {expected}; got {got}."


# -- check_range -----------------------------------------------------------------------------------
def test_check_range_accepts_the_tanh_range_with_its_rounding_slack_and_no_more():
    assert RANGE_SLACK == 1e-3
    check_range(torch.tensor([-1.0, 0.0, 1.0]), "x")
    check_range(torch.tensor([-1 - RANGE_SLACK / 2, 1 + RANGE_SLACK / 2]), "x")  # float rounding of tanh
    for outside in (-1 - 2 * RANGE_SLACK, 1 + 2 * RANGE_SLACK):
        with pytest.raises(ValueError):
            check_range(torch.tensor([0.0, outside]), "x")


@pytest.mark.parametrize("values, lo, hi", [([0.0, 255.0], "0", "255"), ([-1.5, 0.5], "-1.5", "0.5"),
                                            ([-1.0, 1.0 + 2 * RANGE_SLACK], "-1", "1")])
def test_check_range_names_the_range_that_came(values, lo, hi):
    message = _message(check_range, torch.tensor(values), "target", " Scale with x / 127.5 - 1.")
    assert message == f"target must lie in [-1, 1]; got values from {lo} to {hi}. Scale with x / 127.5 - 1."


# -- check_image_batch (the evaluator's gate) ------------------------------------------------------
def test_check_image_batch_returns_a_good_batch_unchanged():
    images = torch.rand(5, 1, 28, 28) * 2 - 1
    assert check_image_batch(images) is images
    colour = torch.rand(2, 3, 32, 32) * 2 - 1
    assert check_image_batch(colour, shape=(3, 32, 32)) is colour


@pytest.mark.parametrize("images, match", [
    (torch.zeros(4, 28, 28), r"^images must have shape \(N, 1, 28, 28\) .*; got \(4, 28, 28\)\.$"),
    (torch.zeros(4, 3, 28, 28), r"got \(4, 3, 28, 28\)"),
    (torch.zeros(4, 1, 32, 32), r"got \(4, 1, 32, 32\)"),
    (torch.zeros(4, 1, 28, 28, dtype=torch.uint8), r"floats in \[-1, 1\]; got dtype torch.uint8 \(convert with"),
    (torch.rand(4, 1, 28, 28), r"no negative values \(range .*\): they look scaled to\s+\[0, 1\].* x \* 2 - 1"),
    (torch.rand(4, 1, 28, 28) * 255, r"must lie in \[-1, 1\]; got values from .* to 25\d.*end with tanh"),
    (torch.full((4, 1, 28, 28), float("nan")), "NaN or infinite"),
    (torch.full((4, 1, 28, 28), float("inf")), "NaN or infinite"),
    (torch.zeros(0, 1, 28, 28), "empty: need at least one image"),
])
def test_check_image_batch_refuses_what_would_be_scored_wrongly(images, match):
    with pytest.raises(ValueError, match=match):
        check_image_batch(images)


def test_check_image_batch_refuses_what_is_not_a_tensor_with_a_type_error():
    message = _message(check_image_batch, np.zeros((2, 1, 28, 28)), "samples", error=TypeError)
    assert message == "samples must be a torch.Tensor of shape (N, 1, 28, 28); got ndarray."


def test_check_image_batch_names_the_batch_and_the_shape_asked_for():
    message = _message(check_image_batch, torch.zeros(2, 1, 28, 28), "fakes", (3, 32, 32))
    assert message.startswith("fakes must have shape (N, 3, 32, 32)") and message.endswith("got (2, 1, 28, 28).")


# -- check_labels ----------------------------------------------------------------------------------
def test_check_labels_accepts_class_indices_from_0_to_n_classes_minus_1():
    check_labels(torch.tensor([0, 9, 3]), 3, 10, "G")
    check_labels(torch.tensor([0, 1]), None, 2, "G")  # any batch size
    check_labels(torch.zeros(0, dtype=torch.long), 0, 10, "G")  # an empty batch has no range to check
    for outside in (-1, 10):
        with pytest.raises(ValueError, match="class indices in 0..9"):
            check_labels(torch.tensor([0, outside, 9]), 3, 10, "G")


@pytest.mark.parametrize("labels, n, got", [
    (torch.tensor([0.0, 1.0]), 2, "torch.float32 of shape (2,)"),
    (torch.tensor([[0, 1]]), 2, "torch.int64 of shape (1, 2)"),
    (torch.tensor([0, 1, 2]), 2, "torch.int64 of shape (3,)"),
    (torch.tensor([0, 1], dtype=torch.int32), 2, "torch.int32 of shape (2,)"),
    ([0, 1], 2, "list"),
])
def test_check_labels_names_the_expected_tensor_and_what_came(labels, n, got):
    message = _message(check_labels, labels, n, 10, "ConditionalGenerator")
    assert message == (f"ConditionalGenerator expects labels as an int64 tensor of shape ({n},), one class index "
                       f"per image; got {got}.")


def test_check_labels_without_a_batch_size_says_N():
    assert "of shape (N,)" in _message(check_labels, torch.tensor([0.5]), None, 10, "label_maps")


@pytest.mark.parametrize("labels, lo, hi", [([0, 10], 0, 10), ([-1, 3], -1, 3), ([12], 12, 12)])
def test_check_labels_names_the_class_range_and_the_values_that_came(labels, lo, hi):
    message = _message(check_labels, torch.tensor(labels), None, 10, "D")
    assert message == f"D expects class indices in 0..9; got values from {lo} to {hi}."


# -- check_same_shape ------------------------------------------------------------------------------
def test_check_same_shape_accepts_equal_shapes():
    assert check_same_shape(torch.zeros(2, 3), torch.ones(2, 3), "l1_loss") is None


@pytest.mark.parametrize("a, b, got", [
    (torch.zeros(2, 1, 4, 4), torch.zeros(1, 1, 4, 4), "(2, 1, 4, 4) and (1, 1, 4, 4)"),
    (torch.zeros(2, 3), torch.zeros(3, 2), "(2, 3) and (3, 2)"),
    ([1.0], torch.zeros(1), "list and (1,)"),
])
def test_check_same_shape_refuses_broadcasting(a, b, got):
    message = _message(check_same_shape, a, b, "cycle_loss")
    assert re.match(rf"cycle_loss compares two batches of the same shape; got {re.escape(got)} \(broadcasting",
                    message)

