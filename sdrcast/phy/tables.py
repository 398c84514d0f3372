"""Loading of the standards' tables shipped as package data, for every layer (each read once)."""
from __future__ import annotations

import json
from functools import cache
from importlib import resources


@cache
def load_json(std: str, name: str) -> dict:
    """``sdrcast/phy/<std>/tables/<name>`` parsed (``std="fec"``: ``sdrcast/phy/fec/<name>``)."""
    base = resources.files(f"sdrcast.phy.{std}")
    path = base.joinpath(name) if std == "fec" else base.joinpath("tables", name)
    with path.open("r") as f:
        return json.load(f)
