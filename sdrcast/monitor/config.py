"""The monitoring station's configuration (``sdrcast monitor --config station.toml``): the
station, its channels and its alarm rules, as frozen dataclasses checked on construction.

```toml
[station]
name = "lab"
database = "monitor.sqlite"   # per-second metrics and events (SQLite)
http = "127.0.0.1:8080"       # web page and /metrics; "" for none
recordings = "recordings"     # SigMF recordings around alarms

[[channels]]
name = "atsc3-593"
input = "soapy:driver=hackrf"  # or a file, or zmq+sub://host:port
standard = "auto"              # or atsc3, dtmb, fembms
rate = 6.912e6
freq = 593e6
calibration_dbm = -20.0        # the input level in dBm that reads 0 dBFS

[[alarms]]
metric = "mer_db"
below = 20.0
hold_s = 5
hysteresis = 1.0
severity = "major"
```
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sdrcast.config import from_mapping, load_mapping, require_one_of, require_range
from sdrcast.errors import ConfigError

STANDARD_CHOICES = ("auto", "atsc3", "dtmb", "fembms")
SEVERITIES = ("minor", "major", "critical")
FORMATS = ("cf32", "cs16", "cs8", "cu8")
# what a rule can watch: the per-second metrics (docs/monitor.md lists them)
METRICS = ("level_dbfs", "level_dbm", "snr_db", "mer_db", "cfo_hz", "sco_ppm", "sync", "fer",
           "fec_blocks", "fec_failures", "ldpc_iterations", "pre_fec_ber", "ts_packets",
           "ts_bitrate", "ts_errors", "ip_packets", "ip_lost", "frames_lost", "samples_dropped",
           "input_up", "echo_delay_us", "echo_db", "tr_priority1", "tr_priority2", "TS_sync_loss",
           "Sync_byte_error",
           "PAT_error", "Continuity_count_error", "PMT_error", "PID_error", "Transport_error",
           "CRC_error", "PCR_repetition_error", "PCR_discontinuity_indicator_error", "CAT_error")


@dataclass(frozen=True)
class ChannelConfig:
    """One watched channel. ``realtime``: a file is played at its sample rate (false: as fast
    as it decodes); ``loop``: a file starts again at its end; ``retry_s``: a live input that
    dies is opened again after this long; ``ip_plps``: ATSC 3.0 PLPs that carry IP."""

    name: str
    input: str
    standard: str = "auto"
    rate: float | None = None
    freq: float | None = None
    gain: str | None = None
    format: str | None = None
    realtime: bool = True
    loop: bool = False
    retry_s: float = 5.0
    calibration_dbm: float | None = None
    ip_plps: tuple[int, ...] = ()

    def __post_init__(self):
        if not self.name or any(c in self.name for c in " /\\\"'<>&"):
            raise ConfigError(f"channels.name={self.name!r}: a non-empty name without spaces, "
                              "slashes, quotes or <>&")
        if not self.input:
            raise ConfigError(f"channels[{self.name}].input: give a file, zmq+… or soapy: source")
        require_one_of(f"channels[{self.name}].standard", self.standard, STANDARD_CHOICES)
        if self.format is not None:
            require_one_of(f"channels[{self.name}].format", self.format, FORMATS)
        if self.rate is not None:
            require_range(f"channels[{self.name}].rate", self.rate, 1e5, 1e9)
        require_range(f"channels[{self.name}].retry_s", self.retry_s, 0.1, 3600)
        for p in self.ip_plps:
            if not isinstance(p, int) or isinstance(p, bool) or not 0 <= p < 64:
                raise ConfigError(f"channels[{self.name}].ip_plps: {p!r}; allowed PLP ids 0 to 63")


@dataclass(frozen=True)
class AlarmRule:
    """Raised when ``metric`` stays ``below``/``above`` its threshold for ``hold_s`` seconds
    (or at once with ``hold_s = 0``); cleared when it stays past the threshold by
    ``hysteresis`` for ``clear_s`` seconds (default ``hold_s``). ``channels``: the channels it
    applies to (empty: all). A metric a channel does not measure never raises it."""

    metric: str
    below: float | None = None
    above: float | None = None
    hold_s: float = 5.0
    clear_s: float | None = None
    hysteresis: float = 0.0
    severity: str = "major"
    channels: tuple[str, ...] = ()
    name: str = ""

    def __post_init__(self):
        require_one_of("alarms.metric", self.metric, METRICS)
        if (self.below is None) == (self.above is None):
            raise ConfigError(f"alarms[{self.metric}]: give exactly one of below = X or above = X")
        require_range(f"alarms[{self.metric}].hold_s", self.hold_s, 0, 86400)
        if self.clear_s is not None:
            require_range(f"alarms[{self.metric}].clear_s", self.clear_s, 0, 86400)
        require_range(f"alarms[{self.metric}].hysteresis", self.hysteresis, 0)
        require_one_of(f"alarms[{self.metric}].severity", self.severity, SEVERITIES)

    @property
    def label(self) -> str:
        return self.name or (f"{self.metric} < {self.below:g}" if self.below is not None
                             else f"{self.metric} > {self.above:g}")


DEFAULT_ALARMS = (
    AlarmRule("sync", below=0.5, hold_s=2, severity="critical", name="no signal"),
    AlarmRule("input_up", below=0.5, hold_s=0, severity="critical", name="input down"),
    AlarmRule("mer_db", below=20.0, hold_s=5, hysteresis=1.0, severity="major"),
    AlarmRule("fer", above=0.0, hold_s=3, severity="major", name="FEC failures"),
    AlarmRule("tr_priority1", above=0.0, hold_s=0, clear_s=10, severity="major",
              name="TR 101 290 priority 1"),
)


@dataclass(frozen=True)
class StationConfig:
    """The station: where metrics (SQLite), recordings and the web page go; ``pre_s``/``post_s``:
    the IQ kept before and recorded after each alarm; metrics older than ``downsample_after_h``
    hours are kept per minute, older than ``retention_days`` deleted; ``webhook``: a URL each
    alarm event is POSTed to as JSON; ``duration``: stop after S seconds (none: run until every
    input ended, or for ever for live inputs)."""

    channels: tuple[ChannelConfig, ...]
    alarms: tuple[AlarmRule, ...] = DEFAULT_ALARMS
    name: str = "sdrcast"
    database: str = "monitor.sqlite"
    http: str = "127.0.0.1:8080"
    recordings: str = "recordings"
    pre_s: float = 2.0
    post_s: float = 1.0
    webhook: str = ""
    retention_days: float = 30.0
    downsample_after_h: float = 24.0
    duration: float | None = None
    max_recordings: int = 100

    def __post_init__(self):
        if not self.channels:
            raise ConfigError("channels: give at least one [[channels]] table")
        names = [c.name for c in self.channels]
        if len(set(names)) != len(names):
            raise ConfigError(f"channels.name: each name once; got {names}")
        require_range("station.pre_s", self.pre_s, 0, 30)
        require_range("station.post_s", self.post_s, 0, 30)
        require_range("station.retention_days", self.retention_days, 0.001)
        require_range("station.downsample_after_h", self.downsample_after_h, 0)
        require_range("station.max_recordings", self.max_recordings, 0)
        if self.duration is not None:
            require_range("station.duration", self.duration, 0.1)
        if self.http:
            host, _, port = self.http.rpartition(":")
            if not host or not port.isdigit() or not 0 <= int(port) <= 65535:
                raise ConfigError(f"station.http={self.http!r}: use HOST:PORT (port 0-65535), or \"\"")
        if self.webhook and not self.webhook.startswith(("http://", "https://")):
            raise ConfigError(f"station.webhook={self.webhook!r}: an http:// or https:// URL")
        for rule in self.alarms:
            unknown = set(rule.channels) - set(names)
            if unknown:
                raise ConfigError(f"alarms[{rule.label}].channels: {sorted(unknown)} not among {names}")

    @classmethod
    def load(cls, path: str | Path) -> StationConfig:
        """From TOML/JSON: ``[station]`` fields, ``[[channels]]``, ``[[alarms]]`` (replacing
        the defaults when given)."""
        data = load_mapping(path)
        unknown = set(data) - {"station", "channels", "alarms"}
        if unknown:
            raise ConfigError(f"{path}: unknown table(s) {sorted(unknown)}; allowed station, "
                              "channels, alarms")
        station = data.get("station", {})
        if not isinstance(station, dict) or "channels" in station or "alarms" in station:
            raise ConfigError(f"{path}: [station] is a table of fields; channels and alarms are "
                              "[[channels]] and [[alarms]]")
        merged = {**station, "channels": data.get("channels", [])}
        if "alarms" in data:
            merged["alarms"] = data["alarms"]
        return from_mapping(cls, merged, required={"ChannelConfig": ("name", "input")})


def single_channel(spec: str, **kw) -> StationConfig:
    """A station watching one input (``sdrcast monitor --input SPEC``)."""
    station = {k: kw.pop(k) for k in list(kw) if k in StationConfig.__dataclass_fields__}
    return StationConfig(channels=(ChannelConfig(name=kw.pop("name", "ch1"), input=spec, **kw),), **station)
