"""The streaming ATSC 3.0 TX (block and CLI) gives the same samples as Atsc3Transmitter, frame
by frame, with frame_start annotations in SigMF."""
import json

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
                 str(d / "00_input_ts.bin"), "--output", str(out), "--freq", "593e6", "--quiet"]) == 0
    iq = np.fromfile(out, np.complex64)
    ref = np.fromfile(d / "10_baseband_6912ksps.cf32", np.complex64)
    assert iq.size == 2 * ref.size  # the input fills one frame and starts a second
    assert np.max(np.abs(iq[13824:ref.size] - ref[13824:])) <= 1e-4 * np.max(np.abs(ref))
    meta = json.loads((tmp_path / "a.sigmf-meta").read_text())
    starts = [a["core:sample_start"] for a in meta["annotations"]]
    assert starts == [0, ref.size] and meta["global"]["core:sample_rate"] == 6.912e6
