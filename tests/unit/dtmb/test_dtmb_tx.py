import numpy as np
import pytest

from sdrcast.errors import ConfigError
from sdrcast.mac.ts import NULL_PID, pids, sample_stream
from sdrcast.phy.dtmb import PRESETS, DtmbConfig, DtmbTransmitter, stages
from sdrcast.phy.dtmb.stages import latency_frames


def test_bit_rates_match_the_published_range_and_presets():
    rates = [DtmbConfig(h, False, 3780, c, r, 1).payload_bitrate
             for h in ("pn420", "pn595", "pn945")
             for c, r in (("4QAM-NR", 0.8), ("64QAM", 0.8))]
    assert min(rates) == pytest.approx(4.8128e6, rel=1e-5)
    assert max(rates) == pytest.approx(32.4864e6, rel=1e-5)
    published = [9.626, 10.396, 14.438, 20.791, 21.658, 24.365, 25.989]
    got = [round(PRESETS[f"mode{i}"].payload_bitrate / 1e6, 3) for i in range(1, 8)]
    assert got == published


@pytest.mark.parametrize("kwargs, message", [
    ({"header": "pn500"}, "header='pn500'"),
    ({"constellation": "8PSK"}, "constellation='8PSK'"),
    ({"constellation": "32QAM", "ldpc_rate": 0.6}, r"allowed \[0.8\]"),
    ({"header": "pn595", "header_rotating": True}, "constant phase"),
    ({"interleaver_mode": 3}, "interleaver_mode=3"),
    ({"carriers": 2}, "carriers=2"),
])
def test_config_errors_name_field_and_allowed_values(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        DtmbConfig(**kwargs)


def test_geometry_per_constellation():
    assert DtmbConfig(constellation="32QAM", ldpc_rate=0.8).frames_per_group == 2
    assert DtmbConfig(constellation="4QAM-NR", ldpc_rate=0.8).frames_per_group == 2
    cfg = DtmbConfig("pn420", constellation="64QAM", ldpc_rate=0.8)
    assert cfg.ts_bytes_per_frame == 12 * 188 and cfg.frame_symbols == 4200


def test_input_is_padded_with_counted_null_packets_and_frames_continue():
    cfg = DtmbConfig("pn945", True, 3780, "16QAM", 0.6, 1)
    tx = DtmbTransmitter(cfg)
    ts = sample_stream(5)
    out = tx.stages(ts)
    per_frame = cfg.ts_bytes_per_frame // 188
    assert tx.null_packets_added == per_frame - 5
    assert out["framed"].size == cfg.frame_symbols
    # the receiver side will see the null packets: they descramble to PID 0x1FFF
    bits = stages.scramble_frame(out["scrambled"])
    padded = np.packbits(bits)
    assert np.all(pids(padded[5 * 188:]) == NULL_PID)
    # rotating PN: the next call continues the superframe (frame 1 uses shift 1)
    x2 = tx.push(sample_stream(per_frame))
    assert not np.allclose(x2[:945], out["framed"][:945])
    with pytest.raises(ConfigError, match="188-byte"):
        tx.push(np.zeros(100, np.uint8))


def test_power_and_4qam_nr_path():
    for cfg in (DtmbConfig(), DtmbConfig("pn595", False, 1, "4QAM-NR", 0.8, 1)):
        tx = DtmbTransmitter(cfg)
        x = tx.push(sample_stream(2 * cfg.ts_bytes_per_frame // 188))  # two frames
        frames = x.reshape(-1, cfg.frame_symbols)
        body = frames[:, cfg.header_symbols:]
        head = frames[:, :cfg.header_symbols]
        assert np.mean(np.abs(head) ** 2) == pytest.approx(cfg.power_ratio, rel=1e-5)
        if cfg.constellation != "4QAM-NR":
            # body power is 1 once the interleaver is full; at start-up its zeros lower it
            assert np.mean(np.abs(body) ** 2) <= 1.0 + 1e-3
    nr = DtmbTransmitter(DtmbConfig("pn595", False, 1, "4QAM-NR", 0.8, 1)).stages(sample_stream(4))
    assert nr["mapped"].size == 3744 * 2 and nr["ldpc"].size == 7488


def test_tx_block_is_chunk_invariant_and_tags_frames():
    from sdrcast.flowgraphs.dtmb_tx import DtmbTxBlock
    from sdrcast.runtime.testing import assert_chunk_invariant

    cfg = DtmbConfig("pn945", True, 3780, "32QAM", 0.8, 1)  # 2-frame groups
    ts = sample_stream(3 * cfg.ts_bytes_per_frame // 188 + 3)
    out = assert_chunk_invariant(lambda: DtmbTxBlock(cfg), ts, trials=3, max_len=5000)
    starts = [t for t in out.tags if t.key == "frame_start"]
    n = 4 + 2 * -(-latency_frames(cfg) // 2)  # the input's 4 frames, then the interleaver flush
    assert [t.offset for t in starts] == [i * cfg.frame_symbols for i in range(n)]
    assert [t.value for t in starts] == [i % 200 for i in range(n)]


def test_cli_tx_writes_an_annotated_sigmf_recording(tmp_path):
    from sdrcast.cli import main
    from sdrcast.sdr_io import read_samples

    (tmp_path / "in.ts").write_bytes(sample_stream(40).tobytes())
    out = tmp_path / "dtmb.sigmf-data"
    assert main(["tx", "dtmb", "--preset", "mode2", "--input", str(tmp_path / "in.ts"),
                 "--output", str(out), "--freq", "586e6", "--quiet"]) == 0
    iq, meta = read_samples(out)
    cfg = PRESETS["mode2"]
    n_frames = -(-40 // (cfg.ts_bytes_per_frame // 188)) + latency_frames(cfg)  # + flush
    assert iq.size == n_frames * cfg.frame_symbols
    assert meta.sample_rate == 7.56e6 and meta.center_freq == 586e6
    assert [a["core:sample_start"] for a in meta.annotations] == \
        [i * cfg.frame_symbols for i in range(n_frames)]


@pytest.mark.parametrize("name", ["4QAM", "16QAM", "64QAM"])
def test_per_axis_demapper_equals_exhaustive_max_log(name):
    from sdrcast.phy.dtmb import tables
    from sdrcast.phy.dtmb.decoder import _axes
    from sdrcast.phy.kernels.qam import demap_maxlog_axes
    from sdrcast.phy.mapping import Constellation

    pts = tables.constellation_points(name)
    levels = _axes(pts)
    assert levels is not None
    rng = np.random.default_rng(0)
    y = (rng.standard_normal(500) + 1j * rng.standard_normal(500)).astype(np.complex64)
    nv = rng.uniform(0.05, 0.5, 500)
    bps = int(np.log2(pts.size))
    exhaustive = Constellation(pts).demap(y, nv).reshape(-1, bps)[:, ::-1].reshape(-1)
    np.testing.assert_allclose(demap_maxlog_axes(y, *levels, nv), exhaustive, rtol=1e-4, atol=1e-3)
    assert _axes(tables.constellation_points("32QAM")) is None  # the cross is not separable
