"""sdrcast tx fembms: generated traffic, pcap and packets in; every packet on air and decoded
back from the file; the carrier's timing (CAS every 40 ms, PSS where it belongs), level and
tags; bad input refused in one line."""
import subprocess
import sys

import numpy as np
import pytest

from sdrcast.mac.fembms import mch
from sdrcast.mac.fembms.rlc import RlcUmRx
from sdrcast.mac.ip import udp_datagram
from sdrcast.phy.fembms import signals
from sdrcast.phy.fembms.config import FembmsConfig
from sdrcast.phy.fembms.numerology import numerology
from sdrcast.phy.fembms.pmch import MbsfnSubframe, Pmch
from sdrcast.phy.fembms.transmitter import FembmsTransmitter
from sdrcast.sdr_io import read_samples
from sdrcast.sdr_io.payload import write_pcap


def _packets(n, seed=0):
    rng = np.random.default_rng(seed)
    return [udp_datagram(rng.integers(0, 256, int(rng.integers(20, 1400)), np.uint8).tobytes(),
                         ("10.0.0.1", 4000), ("239.1.1.1", 5000), ident=i) for i in range(n)]


def _receive(iq, cfg, lcid):
    """The carrier's MTCH packets, decoded with the transmitter's own objects (ideal channel)."""
    rate, per = cfg.rate, round(cfg.rate / 1000)
    rx, out, bad = RlcUmRx(), [], 0
    for t in range(iq.size // per):
        if t % 40 == 0:
            continue
        x = iq[t * per:(t + 1) * per]
        for mcs in (cfg.pmchs[0].data_mcs, cfg.signalling_mcs):
            p = Pmch(MbsfnSubframe(cfg.numerology, cfg.n_rb, cfg.area_id, t % 10), mcs)
            g = numerology(cfg.numerology).demodulate(x, p.sub.shape[1], rate)
            tb, ok, _ = p.decode(g[p.sub.data_positions] / np.sqrt(scale(iq, cfg)), 0.01)
            if ok:
                break
        else:
            bad += 1
            continue
        for lc, sdu in mch.unpack(tb).elements:
            out += rx.push(sdu) if lc == lcid else []
    return out, bad


def scale(iq, cfg):
    """Power per resource element of a recording made at another level."""
    return np.mean(np.abs(iq) ** 2) / FembmsTransmitter(cfg).nominal_power


def test_every_packet_on_air_and_back():
    cfg = FembmsConfig.preset("5mhz_1k25_mcs9")
    tx = FembmsTransmitter(cfg)
    packets = _packets(200)
    iq = tx.modulate([(1, p) for p in packets])
    assert iq.size % (320 * 7680) == 0  # whole scheduling periods
    got, bad = _receive(iq, cfg, 1)
    assert got == packets and bad == 0
    assert tx.report()["packets_sent"] == 200 and tx.report()["packets_dropped"] == 0
    assert abs(np.mean(np.abs(iq) ** 2) / tx.nominal_power - 1) < 0.05


def test_cas_every_40ms_with_the_pss_of_the_cell():
    cfg = FembmsConfig(pci=217)
    iq = FembmsTransmitter(cfg).subframes(80)
    per = 7680
    for t in (0, 40):
        g = numerology("15e").demodulate(iq[t * per:(t + 1) * per], 300, 7.68e6)
        np.testing.assert_allclose(g[5, signals.sync_positions(25)], signals.pss(217), atol=1e-4)
        np.testing.assert_allclose(g[4, signals.sync_positions(25)], signals.sss(217), atol=1e-4)


def test_queue_bound_drops_oldest_and_counts():
    tx = FembmsTransmitter(FembmsConfig.preset("5mhz_1k25_mcs9"))
    tx.scheduler.queue_bytes = 50_000
    tx._queue([(1, p) for p in _packets(300)])
    r = tx.report()
    assert r["packets_dropped"] > 0 and r["bytes_queued"] <= 50_000 + 1500


def test_cli_gen_and_pcap(tmp_path):
    out = tmp_path / "f.sigmf-data"
    r = subprocess.run([sys.executable, "-m", "sdrcast", "tx", "fembms", "--preset", "5mhz_1k25_mcs9",
                        "--input", "gen", "--duration", "0.2", "--output", str(out), "--quiet"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    iq, meta = read_samples(out)
    assert meta.sample_rate == 7.68e6 and iq.size % 7680 == 0
    assert np.mean(np.abs(iq) ** 2) == pytest.approx(10 ** -1.5, rel=0.1)  # -15 dBFS RMS
    pcap = tmp_path / "in.pcap"
    packets = _packets(40, seed=3)
    write_pcap(pcap, packets)
    out2 = tmp_path / "g.cf32"
    r = subprocess.run([sys.executable, "-m", "sdrcast", "tx", "fembms", "--preset", "vector_mtch_ip",
                        "--input", f"2={pcap}", "--output", str(out2), "--quiet"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "IP packets sent 40, dropped 0" in r.stderr
    iq = np.fromfile(out2, np.complex64)
    got, bad = _receive(iq, FembmsConfig.preset("vector_mtch_ip"), 2)
    assert got == packets and bad == 0


@pytest.mark.parametrize("args, message", [
    (["--preset", "nope"], "preset='nope' is not allowed"),
    (["--preset", "5mhz_1k25_mcs9", "--input", "7=gen"], "no session has lcid 7"),
    (["--preset", "5mhz_1k25_mcs9", "--duration", "-1"], "--duration=-1.0 must be positive"),
    (["--config", "missing.toml"], "does not exist"),
])
def test_bad_input_one_line(args, message, tmp_path):
    r = subprocess.run([sys.executable, "-m", "sdrcast", "tx", "fembms", *args, "--output",
                        str(tmp_path / "x.cf32"), "--quiet"], capture_output=True, text=True, timeout=120)
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert message in r.stderr and r.stderr.strip().count("\n") == 0, r.stderr


@pytest.mark.parametrize("field, value, message", [
    ("numerology", "0.37", "0.37 kHz"), ("numerology", "2.5", "2.5 kHz"),
    ("bandwidth_mhz", 6.0, "bandwidth_mhz=6.0"), ("pci", 504, "pci=504"),
    ("signalling_mcs", 3, "signalling_mcs=3"), ("scheduling_period", "rf4", "scheduling_period"),
])
def test_config_refusals_name_the_field(field, value, message):
    from sdrcast.errors import ConfigError

    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        FembmsConfig(**{field: value})


def test_pmch_beyond_the_table_refused():
    from sdrcast.errors import ConfigError
    from sdrcast.phy.fembms.config import PmchConfig

    with pytest.raises(ConfigError, match="data_mcs=29"):
        PmchConfig(data_mcs=29)
    with pytest.raises(ConfigError, match="sf_alloc_end"):
        FembmsConfig(pmchs=(PmchConfig(sf_alloc_end=400),))


def test_output_resampled_to_a_radio_rate():
    """--rate 10e6 (e.g. a HackRF): the carrier resampled, its length and band as they should
    be; resampled back to the standard rate it is received packet for packet."""
    from dataclasses import replace

    from sdrcast.analysis.metrics import occupied_bandwidth
    from sdrcast.phy.fembms.receiver import FembmsReceiver
    from sdrcast.phy.resample import Resampler

    cfg = FembmsConfig.preset("5mhz_1k25_mcs9")
    packets = _packets(60, seed=2)
    iq = FembmsTransmitter(replace(cfg, sample_rate=10e6)).modulate([(1, p) for p in packets])
    assert abs(iq.size - 0.32 * 10e6) < 100
    assert 4.3e6 < occupied_bandwidth(iq, 10e6)["bandwidth_hz"] < 4.6e6
    back = Resampler.from_rates(10e6, cfg.rate)(iq)
    got, _ = FembmsReceiver(cfg.rate).demodulate(back)
    assert got == packets
