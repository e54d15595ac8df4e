"""Kinds of sample: how each is read, which statistics it gets, what its profile stores.

A kind turns files into batches of 2-D samples with values in [0, 1] and
computes a fixed list of named statistics per sample. Everything after
that (standardising, the mixture density, calibration, verdicts) is shared.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from gandetect.errors import InputError, ProfileError
from gandetect.loading import ARRAY_SUFFIXES, IMAGE_SUFFIXES, Batch, read_samples
from gandetect.statistics import (
    SPATIAL_DESCRIPTIONS,
    SPECTRAL_DESCRIPTIONS,
    VALUE_DESCRIPTIONS,
    VALUE_GRID,
    ValueReference,
    quantise_levels,
    spatial_statistics,
    spectral_statistics,
    value_statistics,
)


@dataclass
class ReadOptions:
    """Options for reading input files, shared by every kind (each uses the ones that apply)."""

    value_range: str = "auto"
    npz_key: str | None = None
    sample_shape: tuple[int, int] | None = None
    max_pixels: int = 1 << 24
    max_array_elements: int = 1 << 28


class ReferenceAccumulator:
    """Mergeable sums over reference samples: value counts on the 1/65535 grid."""

    def __init__(self) -> None:
        self.level_counts = np.zeros(VALUE_GRID + 1, dtype=np.int64)

    def add(self, values: np.ndarray) -> None:
        """Add one sample's values, shape (rows, columns) in [0, 1]."""
        self.level_counts += np.bincount(quantise_levels(values).ravel(), minlength=VALUE_GRID + 1)

    def to_json(self) -> dict[str, Any]:
        reference = ValueReference.from_level_counts(self.level_counts)
        return {"value_levels": reference.levels.tolist(), "value_counts": reference.counts.tolist()}


@dataclass
class Context:
    """What a kind's statistics need from a profile: the reference value distribution."""

    values: ValueReference


class Kind:
    """Base of the sample kinds; subclasses fix the statistics and the readers."""

    name: ClassVar[str]
    suffixes: ClassVar[frozenset[str]]
    bundled_profile: ClassVar[str]
    descriptions: ClassVar[dict[str, str]]
    perturbation_features: ClassVar[tuple[str, ...]] = ()
    columns_fixed: ClassVar[bool] = True

    @property
    def feature_names(self) -> tuple[str, ...]:
        return tuple(self.descriptions)

    def default_representation(self) -> dict[str, Any]:
        return {}

    def read(self, path: str | os.PathLike, options: ReadOptions, representation: dict[str, Any]) -> Batch:
        raise NotImplementedError

    def new_accumulator(self) -> ReferenceAccumulator:
        return ReferenceAccumulator()

    def context(self, reference: dict[str, Any]) -> Context:
        """Unpack the profile's ``reference`` section; raises ValueError or KeyError when invalid."""
        return Context(ValueReference(reference["value_levels"], reference["value_counts"]))

    def features(self, values: np.ndarray, context: Context) -> np.ndarray:
        """Statistics of each sample, shape (n, len(feature_names)); NaN where undefined."""
        named = self.named_features(values, context)
        return np.column_stack([named[name] for name in self.feature_names])

    def named_features(self, values: np.ndarray, context: Context) -> dict[str, np.ndarray]:
        raise NotImplementedError


class ImageKind(Kind):
    """Grayscale images and image arrays: value, spatial and spectral statistics."""

    name = "image"
    suffixes = IMAGE_SUFFIXES | ARRAY_SUFFIXES
    bundled_profile = "mnist.json"
    descriptions = {**VALUE_DESCRIPTIONS, **SPATIAL_DESCRIPTIONS, **SPECTRAL_DESCRIPTIONS}
    # One value away from the modes holding much mass (mode + eps) marks a
    # small bounded perturbation of a real sample.
    perturbation_features = ("peak_level_share",)

    def read(self, path: str | os.PathLike, options: ReadOptions, representation: dict[str, Any]) -> Batch:
        return read_samples(
            path,
            value_range=options.value_range,
            npz_key=options.npz_key,
            sample_shape=options.sample_shape,
            max_pixels=options.max_pixels,
            max_array_elements=options.max_array_elements,
        )

    def named_features(self, values: np.ndarray, context: Context) -> dict[str, np.ndarray]:
        values = np.asarray(values, dtype=np.float64)
        return {
            **value_statistics(values, context.values),
            **spatial_statistics(values),
            **spectral_statistics(values),
        }


KINDS: dict[str, Kind] = {"image": ImageKind()}


def get_kind(name: str) -> Kind:
    """Return the kind called ``name``.

    Raises
    ------
    ProfileError
        No such kind.
    """
    try:
        return KINDS[name]
    except KeyError:
        raise ProfileError(f"unknown kind {name!r}; known kinds are {', '.join(KINDS)}") from None


def kind_for_path(path: str | os.PathLike, default: str = "image") -> str:
    """Guess the kind of a file from its extension; arrays and images get ``default``."""
    suffix = os.path.splitext(os.fsdecode(path))[1].lower()
    for kind in KINDS.values():
        if kind.name != default and suffix in kind.suffixes and suffix not in IMAGE_SUFFIXES | ARRAY_SUFFIXES:
            return kind.name
    return default


def check_sample_shape(batch: Batch, expected: tuple[int, int], columns_fixed: bool, profile_source: str) -> None:
    """Raise InputError when a batch's samples do not have the profile's shape."""
    rows, columns = batch.values.shape[1:]
    if rows == expected[0] and (columns == expected[1] or not columns_fixed):
        return
    wanted = f"{expected[0]}x{expected[1]}" if columns_fixed else f"{expected[0]} rows"
    raise InputError(
        f"{batch.path}: samples are {rows}x{columns}, but the profile ({profile_source}) "
        f"was fitted on {wanted}; resize the input or fit a profile on samples of this shape"
    )
