"""Shared config helpers: field validation with clear errors, and loading dataclasses from TOML/JSON."""
from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeVar

import tomllib

from sdrcast.errors import ConfigError

T = TypeVar("T")


def require_one_of(field: str, value: Any, allowed: Iterable[Any]) -> None:
    """Raise ``ConfigError`` unless ``value`` is one of ``allowed``."""
    allowed = list(allowed)
    if value not in allowed:
        raise ConfigError(f"{field}={value!r} is not allowed; choose one of {allowed}")


def require_range(field: str, value: float, lo: float | None = None, hi: float | None = None) -> None:
    """Raise ``ConfigError`` unless ``lo <= value <= hi`` (either bound may be None)."""
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        lo_s = "-inf" if lo is None else lo
        hi_s = "inf" if hi is None else hi
        raise ConfigError(f"{field}={value!r} is out of range; allowed {lo_s} .. {hi_s}")


def load_mapping(path: str | Path) -> dict:
    """Read a TOML (``.toml``) or JSON (``.json``) file into a dict."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {str(path)!r} does not exist")
    if path.suffix == ".toml":
        with path.open("rb") as f:
            return tomllib.load(f)
    if path.suffix == ".json":
        return json.loads(path.read_text())
    raise ConfigError(f"config file {str(path)!r}: unknown extension; use .toml or .json")


def from_mapping(cls: type[T], data: dict, where: str = "") -> T:
    """Build dataclass ``cls`` from ``data``, recursing into dataclass-typed fields and lists of them.

    Unknown keys raise ``ConfigError`` naming the key and the allowed ones.
    """
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = set(data) - set(fields)
    if unknown:
        raise ConfigError(f"{where or cls.__name__}: unknown field(s) {sorted(unknown)}; "
                          f"allowed {sorted(fields)}")
    kwargs = {}
    hints = _type_hints(cls)
    for name, value in data.items():
        hint = hints.get(name)
        sub = _dataclass_of(hint)
        label = f"{where}.{name}" if where else name
        if sub is not None and isinstance(value, dict):
            value = from_mapping(sub, value, label)
        elif sub is not None and isinstance(value, list):
            value = tuple(from_mapping(sub, v, f"{label}[{i}]") for i, v in enumerate(value))
        elif isinstance(value, list):
            value = tuple(value)
        kwargs[name] = value
    return cls(**kwargs)


def _type_hints(cls: type) -> dict:
    import typing

    return typing.get_type_hints(cls)


def _dataclass_of(hint: Any) -> type | None:
    import typing

    if hint is None:
        return None
    if dataclasses.is_dataclass(hint):
        return hint
    for arg in typing.get_args(hint):
        if dataclasses.is_dataclass(arg):
            return arg
    return None
