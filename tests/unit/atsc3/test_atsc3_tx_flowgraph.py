"""The streaming ATSC 3.0 TX (block and CLI) gives the same samples as Atsc3Transmitter, frame
by frame, with frame_start annotations in SigMF."""
import json
from pathlib import Path

import numpy as np

from sdrcast.mac.ts import sample_stream
from sdrcast.phy.atsc3 import Atsc3Config, Atsc3Transmitter, PlpConfig, SubframeConfig
from tests.conftest import VECTORS

CFG = Atsc3Config(subframes=(SubframeConfig(fft_size=8192, guard_interval=5,
                                            scattered_pilot_pattern="SP6_2", num_ofdm_symbols=8,
                                            plps=(PlpConfig(code_rate="8/15", modulation="64QAM",
                                                            fec_blocks=3),)),))


def test_block_is_chunk_invariant_and_matches_modulate():
    from sdrcast.flowgraphs.atsc3_tx import Atsc3TxBlock
    from sdrcast.runtime.testing import assert_chunk_invariant

    ts = sample_stream(400, seed=3)
    ref = Atsc3Transmitter(CFG).modulate(ts)
    out = assert_chunk_invariant(lambda: Atsc3TxBlock(CFG), ts, trials=2, max_len=20_000)
    np.testing.assert_array_equal(out.data, ref)
    assert [t.value for t in out.tags if t.key == "frame_start"] == list(range(ref.size // (
        Atsc3Transmitter(CFG).frame_samples_count)))


def test_cli_writes_sigmf_with_frame_annotations(tmp_path):
    from sdrcast.cli import main

    d = VECTORS / "atsc3" / "atsc3_s01_8k_gi1024_sp3_4_ldpc64k_r9_nuc256_tioff"
    out = tmp_path / "a.sigmf-data"
    assert main(["tx", "atsc3", "--config", str(d / "config.toml"), "--input",
                 str(d / "00_input_ts.bin"), "--output", str(out), "--freq", "593e6", "--quiet",
                 "--level", "0"]) == 0  # 0 dBFS RMS: ATSC 3.0's own unit power, as the vector
    iq = np.fromfile(out, np.complex64)
    ref = np.fromfile(d / "10_baseband_6912ksps.cf32", np.complex64)
    assert iq.size == 2 * ref.size  # the input fills one frame and starts a second
    assert np.max(np.abs(iq[13824:ref.size] - ref[13824:])) <= 1e-4 * np.max(np.abs(ref))
    meta = json.loads((tmp_path / "a.sigmf-meta").read_text())
    starts = [a["core:sample_start"] for a in meta["annotations"]]
    assert starts == [0, ref.size] and meta["global"]["core:sample_rate"] == 6.912e6


TS_IP = Path(__file__).parents[2] / "data" / "atsc3_ts_ip.toml"
TWO = Atsc3Config.load(TS_IP)


def _ip_stream(n, seed=0):
    from sdrcast.mac.ip import udp_datagram

    rng = np.random.default_rng(seed)
    return np.frombuffer(b"".join(
        udp_datagram(rng.integers(0, 256, int(rng.integers(1, 1400)), np.uint8).tobytes(),
                     ("10.1.1.1", 4000), ("239.1.1.1", 5000), ident=i) for i in range(n)), np.uint8)


def _datagram_chunks(ip):
    from sdrcast.runtime import Chunk, Tag

    out, i = [], 0
    while i < ip.size:
        n = (int(ip[i + 2]) << 8) | int(ip[i + 3])
        out.append(Chunk(ip[i:i + n], [Tag(0, "plp_id", 1)]))
        i += n
    return out


def test_two_inputs_interleaved_give_modulate_output():
    from sdrcast.flowgraphs.atsc3_tx import Atsc3TxBlock
    from sdrcast.runtime import Chunk, Tag, run_block

    ts, ip = sample_stream(300, seed=1), _ip_stream(60)
    ref = Atsc3Transmitter(TWO).modulate({0: ts, 1: ip})
    tsc = [Chunk(ts[i:i + 188 * 37], [Tag(0, "plp_id", 0)]) for i in range(0, ts.size, 188 * 37)]
    ipc = _datagram_chunks(ip)
    mixed = [c for pair in zip(tsc, ipc, strict=False) for c in pair] + ipc[len(tsc):]
    block = Atsc3TxBlock(TWO, inputs=[0, 1])
    out = run_block(block, mixed)
    assert len(out) > 1  # frames leave as both inputs fill them, not all at the end
    np.testing.assert_array_equal(np.concatenate([c.data for c in out]), ref)
    assert block.counters["plp1_datagrams"] == len(ipc)


def test_live_frames_leave_by_the_clock_with_padding_and_counted_drops():
    from sdrcast.flowgraphs.atsc3_tx import Atsc3TxBlock
    from sdrcast.runtime import Chunk, Tag

    frame_s = Atsc3Transmitter(TWO).frame_samples_count / TWO.sample_rate
    times = [0.0, *(k * frame_s + 1e-6 for k in range(1, 6)), 6 * frame_s + 1e-6]
    block = Atsc3TxBlock(TWO, inputs=[1], live=True, max_backlog_s=0.2, clock=lambda: times.pop(0))
    assert block.tick_s == 0.01
    idle = [Chunk(np.zeros(0, np.uint8)) for _ in range(6)]  # idle ticks
    burst = Chunk(_ip_stream(2000, seed=2), [Tag(0, "plp_id", 1)])  # far above the capacity
    out = list(block.process(iter([*idle, burst])))
    # one frame per frame duration; while idle, all padding
    assert [f.tag("frame_start") for f in out] == [0, 1, 2, 3, 4, 5]
    assert all(len(f) == block.tx.frame_samples_count for f in out)
    assert block.tx.padding_packets[1] == 5 * 3
    # the burst's backlog is cut to 0.2 s of frames, the rest counted
    assert block.counters["plp1_baseband_packets_dropped"] > 0
    assert len(block.tx.plps[1].packets) == block.max_frames * 3 - 3


def test_presets_load_and_state_their_rates():
    from sdrcast.flowgraphs.atsc3_tx import describe
    from sdrcast.phy.atsc3.config import PRESETS

    assert {"fixed_16k_256nuc", "mobile_fixed_tdm", "mobile_fixed_subframes", "mobile_fixed_ldm",
            *(f"vector_s0{i}" for i in range(1, 10))} <= set(PRESETS)
    for name in PRESETS:
        cfg = Atsc3Config.preset(name)
        assert "Mbit/s" in describe(cfg, Atsc3Transmitter(cfg))
    rates = Atsc3Transmitter(Atsc3Config.preset("fixed_16k_256nuc")).payload_bitrates()
    assert 25e6 < rates[0] < 28e6
    assert Atsc3Config.preset("vector_s07") == Atsc3Config.load(
        VECTORS / "atsc3" / "atsc3_s07_2sub_8k_gi1024_sp6_2_nuc64_r9_16k_gi768_sp12_4_nuc256_r11"
        / "config.toml")


def test_cli_two_plps_from_ts_and_pcap(tmp_path, capsys):
    from sdrcast.cli import main
    from sdrcast.sdr_io.payload import write_pcap

    ts, ip = sample_stream(300, seed=1), _ip_stream(60)
    (tmp_path / "a.ts").write_bytes(ts.tobytes())
    write_pcap(tmp_path / "b.pcap", [g.data.tobytes() for g in _datagram_chunks(ip)])
    out = tmp_path / "o.cf32"
    assert main(["tx", "atsc3", "--config", str(TS_IP), "--input", f"1={tmp_path / 'b.pcap'}",
                 "--input", f"0={tmp_path / 'a.ts'}", "--output", str(out), "--quiet"]) == 0
    np.testing.assert_array_equal(np.fromfile(out, np.complex64),  # at the default -15 dBFS RMS
                                  Atsc3Transmitter(TWO).modulate({0: ts, 1: ip})
                                  * np.float32(10 ** (-15 / 20)))
    assert main(["tx", "atsc3", "--config", str(TS_IP), "--input", "5=x.ts",
                 "--output", str(out)]) != 0
    assert "plp_id 5 is not in the configuration" in capsys.readouterr().err


def test_payload_for_an_unknown_plp_is_refused():
    import pytest

    from sdrcast.errors import ConfigError

    with pytest.raises(ConfigError, match="plp_id 7: not in the configuration"):
        Atsc3Transmitter(TWO).modulate({0: sample_stream(10), 7: sample_stream(10)})
    with pytest.raises(ConfigError, match="give the payload as"):
        Atsc3Transmitter(TWO).modulate(sample_stream(10))
