"""Shared config helpers: field validation with clear errors, and loading dataclasses from TOML/JSON."""
from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeVar, get_args, get_type_hints

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
    try:
        if path.suffix == ".toml":
            with path.open("rb") as f:
                return tomllib.load(f)
        if path.suffix == ".json":
            data = json.loads(path.read_text())
            if not isinstance(data, dict):
                raise ConfigError(f"config file {str(path)!r}: expected a JSON object at the top")
            return data
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {str(path)!r}: TOML syntax error: {exc}") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"config file {str(path)!r}: JSON syntax error: {exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"config file {str(path)!r} is not text (UTF-8)") from None
    raise ConfigError(f"config file {str(path)!r}: unknown extension; use .toml or .json")


def from_mapping(cls: type[T], data: dict, where: str = "",
                 required: dict[str, tuple[str, ...]] | None = None) -> T:
    """Build dataclass ``cls`` from ``data``, recursing into dataclass-typed fields and lists of them.

    Unknown keys, and values of the wrong type (``"26"`` for an int, ``2.0`` for an int,
    ``"no"`` for a bool), raise ``ConfigError`` naming the field; ``required`` names fields
    (per dataclass name) that a file must give rather than take from the defaults.
    """
    if not isinstance(data, dict):
        raise ConfigError(f"{where or cls.__name__}: expected a table of fields, got {data!r}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    missing = [n for n in (required or {}).get(cls.__name__, ()) if n not in data]
    if missing:
        raise ConfigError(f"{where or cls.__name__}: {missing} must be given (no default is "
                          "assumed for them)")
    unknown = set(data) - set(fields)
    if unknown:
        raise ConfigError(f"{where or cls.__name__}: unknown field(s) {sorted(unknown)}; "
                          f"allowed {sorted(fields)}")
    kwargs = {}
    hints = get_type_hints(cls)
    for name, value in data.items():
        hint = hints.get(name)
        sub = _dataclass_of(hint)
        label = f"{where}.{name}" if where else name
        if sub is not None and isinstance(value, dict):
            value = from_mapping(sub, value, label, required)
        elif sub is not None and isinstance(value, list):
            value = tuple(from_mapping(sub, v, f"{label}[{i}]", required)
                          for i, v in enumerate(value))
        elif isinstance(value, list):
            value = tuple(value)
        else:
            _check_type(label, value, hint)
        kwargs[name] = value
    return cls(**kwargs)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


# scalar type -> (accepts a value, how the error names it); ints count as floats, bools as neither
_SCALARS = {bool: (lambda v: isinstance(v, bool), "true or false"),
            int: (_is_int, "an integer"),
            float: (lambda v: _is_int(v) or isinstance(v, float), "a number"),
            str: (lambda v: isinstance(v, str), "a string")}


def _check_type(label: str, value: Any, hint: Any) -> None:
    """Refuse a scalar of the wrong type for ``hint`` (bool, int, float, str, or X | None)."""
    options = get_args(hint) or (hint,)
    scalars = [t for t in options if t in _SCALARS]
    if not scalars or (value is None and type(None) in options):
        return
    if not any(_SCALARS[t][0](value) for t in scalars):
        want = " or ".join(_SCALARS[t][1] for t in scalars)
        raise ConfigError(f"{label}={value!r}: expected {want}")


def _dataclass_of(hint: Any) -> type | None:
    if hint is None:
        return None
    if dataclasses.is_dataclass(hint):
        return hint
    for arg in get_args(hint):
        if dataclasses.is_dataclass(arg):
            return arg
    return None
