"""ganlib.evaluation.evaluator: the frozen MNIST classifier, its shipped weights, and the errors when they are
missing or wrong. (The image checks it applies are tested in tests/core/test_validate.py.)"""

import pytest
import torch

from ganlib.evaluation.evaluator import (FEATURE_DIM, WEIGHTS, WEIGHTS_VERSION, Evaluator, EvaluatorUnavailable,
                                         MNISTClassifier, load_weights)


def test_evaluator_reaches_99_percent_on_the_test_split(ev, test_set):
    images, labels = test_set
    right = ev.predict(images) == labels
    assert right.float().mean() >= 0.99
    assert min(right[labels == d].float().mean() for d in range(10)) >= 0.97
    assert ev.test_accuracy >= 0.99
    assert repr(ev) == f"Evaluator(MNIST classifier, test accuracy {ev.test_accuracy:.2%}, 128 features, on cpu)"


def test_evaluator_outputs_and_no_global_rng_use(ev, test_set):
    images = test_set[0][:10]
    state = torch.get_rng_state()
    features, logits, digits = ev.features(images), ev.logits(images), ev.predict(images)
    assert torch.equal(torch.get_rng_state(), state)
    assert features.shape == (10, FEATURE_DIM) == (10, 128) and features.dtype == torch.float32
    assert logits.shape == (10, 10) and digits.dtype == torch.int64 and torch.equal(digits, logits.argmax(1))
    assert torch.allclose(logits, ev.model.head(features), atol=1e-5)  # the read-out of the features


def test_evaluator_in_chunks_gives_the_same_numbers(ev, test_set):
    images = test_set[0][:25]
    assert torch.allclose(ev.features(images, batch_size=7), ev.features(images), atol=1e-5)


def test_evaluator_is_frozen(ev, test_set):
    assert not ev.model.training and not any(p.requires_grad for p in ev.model.parameters())
    before = {k: v.clone() for k, v in ev.model.state_dict().items()}
    ev.features(test_set[0][:64])
    assert all(torch.equal(v, before[k]) for k, v in ev.model.state_dict().items())  # BatchNorm statistics too


def test_evaluator_refuses_images_it_would_score_wrongly(ev):
    with pytest.raises(ValueError, match=r"look scaled to\s+\[0, 1\]"):
        ev.features(torch.rand(4, 1, 28, 28))
    with pytest.raises(ValueError, match=r"must have shape \(N, 1, 28, 28\).*got \(4, 1, 32, 32\)"):
        ev.predict(torch.zeros(4, 1, 32, 32))


def test_reference_stats_are_computed_once(ev):
    mu, sigma = ev.reference_stats("test")
    assert mu.shape == (FEATURE_DIM,) and sigma.shape == (FEATURE_DIM, FEATURE_DIM) and mu.dtype == torch.float64
    assert ev.reference_stats("test")[0] is mu  # from the cache


def test_the_shipped_weights_are_a_current_checkpoint():
    state = load_weights()
    assert WEIGHTS.is_file() and state["version"] == WEIGHTS_VERSION
    assert set(state["model"]) == set(MNISTClassifier().state_dict())


def test_load_weights_errors(tmp_path):
    with pytest.raises(EvaluatorUnavailable, match="no evaluator weights at .*missing.pt.*train_evaluator.py"):
        load_weights(tmp_path / "missing.pt")
    (tmp_path / "bad.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(EvaluatorUnavailable, match=r"(?s)bad.pt is not readable \(UnpicklingError.*train_evaluator.py"):
        load_weights(tmp_path / "bad.pt")
    torch.save({"version": 99, "model": {}}, tmp_path / "old.pt")
    with pytest.raises(EvaluatorUnavailable, match="old.pt is not a version-1 evaluator checkpoint"):
        Evaluator(tmp_path / "old.pt")


def test_weights_of_another_classifier_are_refused(tmp_path):
    other = torch.nn.Linear(3, 2).state_dict()
    torch.save({"version": WEIGHTS_VERSION, "model": other, "test_accuracy": 0.5}, tmp_path / "other.pt")
    with pytest.raises(EvaluatorUnavailable, match="holds weights of another classifier"):
        Evaluator(tmp_path / "other.pt")
