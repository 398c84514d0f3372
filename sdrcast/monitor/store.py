"""The station's history in SQLite (docs/monitor.md gives the schema): a row per channel,
second and metric, the events (alarms, TR 101 290 errors, L1/SI changes, inputs coming and
going) and the alarm recordings. Seconds older than ``downsample_after_h`` become per-minute
means (``resolution`` 60), rows older than ``retention_days`` go. WAL mode: the web page reads
while the station writes, each thread with its own connection."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import sqlite3
import threading
import time
from pathlib import Path

from sdrcast.errors import ConfigError

SCHEMA = """
CREATE TABLE IF NOT EXISTS metrics (
    channel TEXT NOT NULL, t REAL NOT NULL, name TEXT NOT NULL, value REAL NOT NULL,
    resolution INTEGER NOT NULL DEFAULT 1, PRIMARY KEY (channel, name, t, resolution));
CREATE INDEX IF NOT EXISTS metrics_t ON metrics (t);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY, t REAL NOT NULL, channel TEXT NOT NULL, kind TEXT NOT NULL,
    severity TEXT, message TEXT NOT NULL, data TEXT);
CREATE INDEX IF NOT EXISTS events_t ON events (t);
CREATE TABLE IF NOT EXISTS recordings (
    id INTEGER PRIMARY KEY, t REAL NOT NULL, channel TEXT NOT NULL, alarm TEXT NOT NULL,
    path TEXT NOT NULL);
"""


class Store:
    """``add_metrics``/``add_event``/``add_recording`` write; ``metrics``/``events``/``series``
    read; ``maintain(now)`` downsamples and deletes by age."""

    def __init__(self, path: str | Path, retention_days: float = 30.0, downsample_after_h: float = 24.0):
        self.path = str(path)
        self.retention_s, self.downsample_s = retention_days * 86400, downsample_after_h * 3600
        self._local = threading.local()
        try:
            self._db().executescript(SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise ConfigError(f"database {self.path}: not a usable SQLite file ({exc})") from None

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            try:
                db = sqlite3.connect(self.path, timeout=10)
            except sqlite3.OperationalError as exc:
                raise ConfigError(f"database {self.path}: cannot open ({exc})") from None
            db.execute("PRAGMA journal_mode=WAL")
            self._local.db = db
        return db

    def add_metrics(self, channel: str, t: float, metrics: dict) -> None:
        rows = [(channel, t, k, float(v)) for k, v in metrics.items()
                if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)]
        with self._db() as db:
            db.executemany("INSERT OR REPLACE INTO metrics (channel, t, name, value) VALUES (?,?,?,?)", rows)

    def add_event(self, t: float, channel: str, kind: str, message: str, severity: str | None = None,
                  data: dict | None = None) -> None:
        with self._db() as db:
            db.execute("INSERT INTO events (t, channel, kind, severity, message, data) VALUES (?,?,?,?,?,?)",
                       (t, channel, kind, severity, message, json.dumps(data) if data else None))

    def add_recording(self, t: float, channel: str, alarm: str, path: str) -> None:
        with self._db() as db:
            db.execute("INSERT INTO recordings (t, channel, alarm, path) VALUES (?,?,?,?)",
                       (t, channel, alarm, path))

    def metrics(self, t_from: float, t_to: float, channel: str | None = None) -> list[dict]:
        q = "SELECT channel, t, name, value, resolution FROM metrics WHERE t >= ? AND t <= ?"
        args: list = [t_from, t_to]
        if channel:
            q, args = q + " AND channel = ?", [*args, channel]
        cur = self._db().execute(q + " ORDER BY channel, t, name", args)
        return [dict(zip(("channel", "t", "name", "value", "resolution"), r, strict=True)) for r in cur]

    def series(self, channel: str, name: str, t_from: float) -> list[tuple[float, float]]:
        cur = self._db().execute("SELECT t, value FROM metrics WHERE channel = ? AND name = ? AND t >= ? "
                                 "ORDER BY t", (channel, name, t_from))
        return cur.fetchall()

    def events(self, t_from: float, t_to: float, channel: str | None = None,
               limit: int = 100000) -> list[dict]:
        q = "SELECT t, channel, kind, severity, message, data FROM events WHERE t >= ? AND t <= ?"
        args: list = [t_from, t_to]
        if channel:
            q, args = q + " AND channel = ?", [*args, channel]
        cur = self._db().execute(q + " ORDER BY t DESC, id DESC LIMIT ?", [*args, limit])
        keys = ("t", "channel", "kind", "severity", "message", "data")
        return [{**dict(zip(keys, r, strict=True)), "data": json.loads(r[5]) if r[5] else None} for r in cur]

    def recordings(self, limit: int = 50) -> list[dict]:
        cur = self._db().execute("SELECT t, channel, alarm, path FROM recordings ORDER BY t DESC LIMIT ?",
                                 (limit,))
        return [dict(zip(("t", "channel", "alarm", "path"), r, strict=True)) for r in cur]

    def maintain(self, now: float | None = None) -> None:
        """Seconds older than the downsampling age -> per-minute means; rows and events older
        than the retention -> deleted."""
        now = time.time() if now is None else now
        cut, old = now - self.downsample_s, now - self.retention_s
        with self._db() as db:
            db.execute("INSERT OR REPLACE INTO metrics (channel, t, name, value, resolution) "
                       "SELECT channel, (CAST(t / 60 AS INTEGER) + 1) * 60, name, AVG(value), 60 "
                       "FROM metrics WHERE resolution = 1 AND t < ? GROUP BY channel, name, "
                       "CAST(t / 60 AS INTEGER)", (cut - cut % 60,))
            db.execute("DELETE FROM metrics WHERE resolution = 1 AND t < ?", (cut - cut % 60,))
            db.execute("DELETE FROM metrics WHERE t < ?", (old,))
            db.execute("DELETE FROM events WHERE t < ?", (old,))

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None


def iso(t: float) -> str:
    """Seconds since the epoch -> ISO 8601 UTC with milliseconds."""
    return dt.datetime.fromtimestamp(t, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def parse_time(text: str) -> float:
    """ISO 8601 (a zone-less time is UTC), or seconds since the epoch -> seconds since the epoch."""
    try:
        return float(text)
    except ValueError:
        pass
    try:
        d = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"time {text!r}: use ISO 8601 (2026-12-07T08:00:00Z) or seconds since "
                          "the epoch") from None
    return (d if d.tzinfo else d.replace(tzinfo=dt.timezone.utc)).timestamp()


def export(store: Store, t_from: float, t_to: float, fmt: str, channel: str | None = None) -> str:
    """Metrics and events of a time range as CSV (metrics only: channel,time,name,value,
    resolution) or JSON ({"metrics": [...], "events": [...]})."""
    rows = store.metrics(t_from, t_to, channel)
    if fmt == "json":
        return json.dumps({"metrics": rows, "events": store.events(t_from, t_to, channel)}, indent=1)
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["channel", "time", "name", "value", "resolution_s"])
    for r in rows:
        w.writerow([r["channel"], iso(r["t"]), r["name"], f"{r['value']:.6g}", r["resolution"]])
    return out.getvalue()
