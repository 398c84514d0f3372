"""The monitoring station's parts without signals: alarm rules (hold, hysteresis, clear),
the SQLite history (survives a restart, downsampling, export), Prometheus text, the
station's configuration errors, the IQ ring (issue 14)."""
import json
from pathlib import Path

import numpy as np
import pytest

from sdrcast.errors import ConfigError
from sdrcast.monitor.alarms import AlarmEngine
from sdrcast.monitor.channel import IqRing, spectrum_dbfs
from sdrcast.monitor.config import AlarmRule, ChannelConfig, StationConfig
from sdrcast.monitor.store import Store, export, parse_time


def run_rule(rule, values):
    """Feed one value a second -> [(t, state)] of the events."""
    eng = AlarmEngine((rule,))
    return [(e.time, e.state) for t, v in enumerate(values, 1)
            for e in eng.update("ch", float(t), {rule.metric: v})]


def test_an_alarm_raises_after_its_hold_time_and_clears_with_hysteresis():
    rule = AlarmRule("mer_db", below=20.0, hold_s=3, hysteresis=1.0)
    # 4 s below from t=3 (the second ending at 3 covers 2..3): raised at t=5 (3 s below);
    # 20.5 is back above 20 but not by the hysteresis: still raised; 21.5 x 3: cleared at 11
    mer = [25, 25, 19, 19, 19, 19, 20.5, 20.5, 21.5, 21.5, 21.5, 25]
    assert run_rule(rule, mer) == [(5.0, "raised"), (11.0, "cleared")]


def test_a_dip_shorter_than_the_hold_time_raises_nothing():
    rule = AlarmRule("mer_db", below=20.0, hold_s=3)
    assert run_rule(rule, [25, 19, 19, 25, 19, 19, 25]) == []


def test_an_alarm_does_not_chatter_around_its_threshold():
    rule = AlarmRule("fer", above=0.01, hold_s=0, clear_s=2, hysteresis=0.005)
    fer = [0.02, 0.009, 0.02, 0.009, 0.0, 0.0, 0.0]
    assert run_rule(rule, fer) == [(1.0, "raised"), (6.0, "cleared")]  # 2 s at or below 0.005


def test_unmeasured_metrics_hold_the_state_and_rules_apply_to_their_channels():
    rule = AlarmRule("mer_db", below=20.0, hold_s=0, channels=("a",))
    eng = AlarmEngine((rule,))
    assert eng.update("b", 1.0, {"mer_db": 5.0}) == []
    assert [e.state for e in eng.update("a", 1.0, {"mer_db": 5.0})] == ["raised"]
    assert eng.update("a", 2.0, {}) == [] and eng.active() == [("a", "mer_db < 20", "major")]


def test_history_survives_a_restart_and_exports(tmp_path):
    db = tmp_path / "m.sqlite"
    s = Store(db)
    for t in range(100, 110):
        s.add_metrics("ch1", float(t), {"mer_db": 20.0 + t % 3, "sync": 1, "bad": float("nan")})
    s.add_event(105.0, "ch1", "alarm", "ch1: major alarm raised", "major", {"x": 1})
    s.close()
    s = Store(db)  # a new process would open it the same way
    rows = s.metrics(0, 1e9, "ch1")
    assert len(rows) == 20 and {r["name"] for r in rows} == {"mer_db", "sync"}
    assert s.events(0, 1e9)[0]["data"] == {"x": 1}
    csv = export(s, 100, 104, "csv").splitlines()
    assert csv[0] == "channel,time,name,value,resolution_s" and len(csv) == 1 + 10
    assert csv[1].startswith("ch1,1970-01-01T00:01:40.000Z,mer_db,")
    assert len(json.loads(export(s, 0, 1e9, "json"))["events"]) == 1


def test_old_seconds_become_minute_means_and_expire(tmp_path):
    s = Store(tmp_path / "m.sqlite", retention_days=1, downsample_after_h=1)
    now = 10 * 86400.0
    for t in range(0, 120):  # two minutes, 2 h old
        s.add_metrics("c", now - 7200 + t, {"mer_db": float(t)})
    s.add_metrics("c", now - 2 * 86400, {"mer_db": 1.0})  # beyond retention
    s.add_metrics("c", now - 10, {"mer_db": 3.0})  # recent: stays per second
    s.maintain(now)
    rows = [(r["t"], r["value"], r["resolution"]) for r in s.metrics(0, 1e12)]
    assert rows == [(now - 7200 + 60, 29.5, 60), (now - 7200 + 120, 89.5, 60), (now - 10, 3.0, 1)]


def test_prometheus_text_parses():
    from prometheus_client.parser import text_string_to_metric_families

    from sdrcast.monitor.alarms import AlarmEvent
    from sdrcast.monitor.station import Prometheus

    p = Prometheus()
    p.update("dtmb-586", {"mer_db": 23.5, "fer": 0.0, "Continuity_count_error": 2})
    p.alarm(AlarmEvent(1.0, "dtmb-586", "mer_db < 20", "mer_db", "major", "raised", 19.0, 20.0))
    fams = {f.name: f for f in text_string_to_metric_families(p.text().decode())}
    assert fams["sdrcast_mer_db"].samples[0].value == 23.5
    assert fams["sdrcast_mer_db"].samples[0].labels == {"channel": "dtmb-586"}
    cc = [s for s in fams["sdrcast_tr101290_errors"].samples if s.name.endswith("_total")]
    assert cc[0].labels["indicator"] == "Continuity_count_error" and cc[0].value == 2
    assert fams["sdrcast_alarm_active"].samples[0].value == 1


@pytest.mark.parametrize("text, field", [
    ("[[channels]]\nname='a'\n", "input"),
    ("[[channels]]\nname='a b'\ninput='x'\n", "channels.name"),
    ("[[channels]]\nname='a'\ninput='x'\nstandard='dvbt'\n", "standard"),
    ("[[channels]]\nname='a'\ninput='x'\n[[alarms]]\nmetric='mer'\nbelow=1\n", "alarms.metric"),
    ("[[channels]]\nname='a'\ninput='x'\n[[alarms]]\nmetric='mer_db'\n", "below = X or above"),
    ("[[channels]]\nname='a'\ninput='x'\n[[alarms]]\nmetric='fer'\nabove=0\nchannels=['b']\n", "channels"),
    ("[station]\nhttp='localhost'\n[[channels]]\nname='a'\ninput='x'\n", "station.http"),
    ("[station]\nname='x'\n", "channels"),
    ("[[channels]]\nname='a'\ninput='x'\nrate='7.56e6'\n", "rate"),
    ("[[channels]]\nname='a'\ninput='x'\n[[channels]]\nname='a'\ninput='y'\n", "each name once"),
    ("[[channel]]\nname='a'\n", "unknown table"),
])
def test_station_config_errors_name_the_field(tmp_path, text, field):
    p = tmp_path / "station.toml"
    p.write_text(text)
    with pytest.raises(ConfigError, match=field.replace("[", r"\[").replace(".", r"\.")):
        StationConfig.load(p)


def test_the_example_station_config_loads():
    cfg = StationConfig.load(Path(__file__).parents[3] / "examples" / "station.toml")
    assert [c.name for c in cfg.channels] == ["dtmb-586", "atsc3-593"] and len(cfg.alarms) == 4
    assert cfg.channels[1].calibration_dbm == -30.0 and cfg.duration == 60


def test_a_station_config_loads():
    cfg = StationConfig(channels=(ChannelConfig("a", "x.sigmf-data", ip_plps=(1,)),))
    assert cfg.alarms[0].label == "no signal" and cfg.http == "127.0.0.1:8080"


def test_iq_ring_keeps_the_newest_samples_in_order():
    r = IqRing(10)
    x = np.arange(37, dtype=np.complex64)
    for a, b in ((0, 3), (3, 4), (4, 17), (17, 18), (18, 37)):
        r.push(x[a:b])
        assert np.array_equal(r.last(), x[max(0, b - 10):b])
        for n in (1, 4, 10, 12):
            assert np.array_equal(r.last(n), x[max(0, b - min(n, 10)):b])


def test_spectrum_bins_sum_to_the_mean_power():
    x = (np.random.default_rng(0).standard_normal(65536) * 0.1).astype(np.complex64)
    s = np.array(spectrum_dbfs(x))
    assert s.size == 512 and 10 * np.log10(np.sum(10 ** (s / 10))) == pytest.approx(-20.0, abs=0.3)


def test_times_are_iso_8601_or_epoch():
    assert parse_time("1970-01-01T00:01:40Z") == 100.0 == parse_time("100")
    with pytest.raises(ConfigError, match="ISO 8601"):
        parse_time("yesterday")


def test_a_record_is_one_second_of_samples_whatever_the_chunks():
    """Chunks of 0.7 s: five records for 5 s, each exactly a second apart (a record that
    took a chunk's overshoot would lose seconds over a long run)."""
    import collections

    from sdrcast.monitor.channel import ChannelSink
    from sdrcast.runtime import Chunk

    rate = 200e3
    records = collections.deque(maxlen=100)
    sink = ChannelSink(ChannelConfig("a", "x"), rate, 1000.0, 0.5, 0.5, records, live=False)
    w = np.random.default_rng(1).standard_normal(2 * int(5 * rate)).astype(np.float32)
    x = w.view(np.complex64) * np.float32(0.1)
    for i in range(0, x.size, int(0.7 * rate)):
        sink.consume(Chunk(x[i:i + int(0.7 * rate)]))
    sink.finish()
    got = [r for r in records if r["metrics"]]
    assert [r["t"] for r in got] == [1001.0, 1002.0, 1003.0, 1004.0, 1005.0]
    assert all(r["metrics"]["level_dbfs"] == pytest.approx(-17.0, abs=0.2) for r in got)
