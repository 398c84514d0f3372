"""ATSC 3.0 transmitter stages against gr-atsc3's vector sets (vectors/atsc3/README.md). PLP by
PLP: 00 TS -> 01 ALP + baseband packets -> 02 scrambled -> (03 BCH, 04 LDPC: test_fec_vectors)
-> 05 bit-interleaved cell words -> 06 mapped cells. Subframe by subframe: 07 framed cells ->
08 frequency-interleaved cells -> 09 active carriers with pilots -> 10 OFDM symbols with guard
intervals after the resampled bootstrap; 11 the bootstrap at 6.144 Msps. Bits and labels
exact, cells max error 0, samples within 1e-4 of the peak (the resampled bootstrap within -40 dB
NMSE: gr-atsc3 used its own interpolation filter).

Still to come (issue 5): 07 framing with L1 and time interleaving."""
import json

import numpy as np
import pytest

from sdrcast.mac.atsc3.alp import TsEncapsulator
from sdrcast.mac.atsc3.baseband import BasebandPacketizer
from sdrcast.phy.atsc3.bit_interleaver import cell_words
from sdrcast.phy.atsc3.bootstrap import BootstrapFields, bootstrap, decode, preamble_structure
from sdrcast.phy.atsc3.frame_geometry import layout, preamble_row
from sdrcast.phy.atsc3.frequency_interleaver import interleave
from sdrcast.phy.atsc3.ofdm import bootstrap_at, modulate
from sdrcast.phy.atsc3.pilots import insert, noc
from sdrcast.phy.atsc3.scrambler import scramble
from sdrcast.phy.atsc3.tables import constellation_points, ldpc_spec, ofdm
from tests.conftest import VECTORS

SETS = [c for c in json.loads((VECTORS / "manifest.json").read_text())["cases"]
        if c["standard"] == "atsc3" and "tx" in c["stages"]]


def _plps():
    """(id, folder, file suffix, N, rate, constellation, first FEC block stored) per PLP."""
    out = []
    for case in SETS:
        d = VECTORS / "atsc3" / case["set"]
        meta = json.loads((d / "metadata.json").read_text())
        g = meta["gr_atsc3_parameters"]
        inp = meta["input"]
        for p, ip in zip(g.get("plps", [g]), inp.get("plps", [{"file_suffix": ""}]), strict=True):
            n = {"FECFRAME_NORMAL": 64800, "FECFRAME_SHORT": 16200}[p["framesize"]]
            rate = p["rate"].removeprefix("C").replace("_", "/")
            blocks = ip.get("fec_blocks_stored_in_files_01_to_06") or [0]
            out.append((f"{case['set'][:9]}{ip['file_suffix']}", d, ip["file_suffix"], n, rate,
                        p["constellation"].removeprefix("MOD_"), blocks[0]))
    return out


PLPS = _plps()


@pytest.mark.parametrize("pid, d, sfx, n, rate, const, first", PLPS, ids=[p[0] for p in PLPS])
def test_alp_baseband_packets_and_scrambler(pid, d, sfx, n, rate, const, first):
    ts = np.fromfile(d / f"00_input_ts{sfx}.bin", np.uint8)
    k_bch = int(ldpc_spec(n, rate)["K_ldpc"]) - (192 if n == 64800 else 168)
    alp, starts = TsEncapsulator().push(ts)
    bbp = BasebandPacketizer(k_bch).push(alp, starts)
    ref = np.load(d / f"01_bbframes_alp{sfx}.npy")
    np.testing.assert_array_equal(bbp[first:first + ref.shape[0]], ref)
    np.testing.assert_array_equal(scramble(ref), np.load(d / f"02_bbframes_scrambled{sfx}.npy"))


@pytest.mark.parametrize("pid, d, sfx, n, rate, const, first", PLPS, ids=[p[0] for p in PLPS])
def test_bit_interleaver_and_mapper(pid, d, sfx, n, rate, const, first):
    cw = np.unpackbits(np.load(d / f"04_ldpc_codewords{sfx}.npy"), axis=1)
    labels = cell_words(cw, n, rate, const)
    np.testing.assert_array_equal(labels, np.load(d / f"05_bitinterleaved_cell_labels{sfx}.npy"))
    cells = constellation_points(const, rate)[labels.reshape(-1)]
    with np.load(d / f"06_mapped_cells{sfx}.npz") as z:
        np.testing.assert_array_equal(cells, z["cells"])


def _subframes():
    """(id, folder, file suffix, layout, frequency interleaver on data symbols) per subframe."""
    out = []
    for case in SETS:
        d = VECTORS / "atsc3" / case["set"]
        g = json.loads((d / "metadata.json").read_text())["gr_atsc3_parameters"]
        c = g.get("common", g)
        subs = [("", c, c["numpreamblesyms"], c["firstsbs"] == "SBS_ON", True)]
        if "sub1" in g:  # gr-atsc3: subframe 1 has no preamble and always an SBS first
            subs = [("_sub0", c, c["numpreamblesyms"], False, True),
                    ("_sub1", g["sub1"], 0, True, False)]
        for sfx, p, n_pre, sbs_first, frame_start in subs:
            fft = int(p["fftsize"].split("_")[1].removesuffix("K")) * 1024
            gi = int(p["guardinterval"].split("_")[1])
            lay = layout(fft, gi, p["pilotpattern"].removeprefix("PILOT_"), 0, n_pre,
                         p["numpayloadsyms"], sbs_first, frame_start,
                         boost=int(p["pilotboost"].split("_")[1]))
            out.append((f"{case['set'][:9]}{sfx}", d, sfx, lay, p["fimode"] == "FREQ_ALL_SYMBOLS"))
    return out


SUBFRAMES = _subframes()


@pytest.mark.parametrize("sid, d, sfx, lay, fi_all", SUBFRAMES, ids=[s[0] for s in SUBFRAMES])
def test_frequency_interleaver(sid, d, sfx, lay, fi_all):
    with np.load(d / f"07_framed_cells{sfx}.npz") as z:
        framed = z["cells"]
    assert framed.size == lay.total_cells
    with np.load(d / f"08_freqinterleaved_cells{sfx}.npz") as z:
        np.testing.assert_array_equal(interleave(framed, lay, fi_all), z["cells"])


@pytest.mark.parametrize("sid, d, sfx, lay, fi_all", SUBFRAMES, ids=[s[0] for s in SUBFRAMES])
def test_pilot_insertion(sid, d, sfx, lay, fi_all):
    with np.load(d / f"08_freqinterleaved_cells{sfx}.npz") as z:
        symbols, empty = insert(z["cells"], lay)
    with np.load(d / f"09_ofdm_active_carriers_with_pilots{sfx}.npz") as z:
        np.testing.assert_array_equal(np.concatenate(symbols), z["cells"])
    assert empty == (21 if "s03" in sid else 0)  # 32K SP12_4: see pilots.insert


def _frame_params(d):
    g = json.loads((d / "metadata.json").read_text())["gr_atsc3_parameters"]
    c = g.get("common", g)
    fft = int(c["fftsize"].split("_")[1].removesuffix("K")) * 1024
    gi = int(c["guardinterval"].split("_")[1])
    l1b = int(c["l1bmode"].rsplit("_", 1)[1])
    # Annex H signals L1-Basic FEC modes 1..5 only; for 6 and 7 gr-atsc3 signals mode 1's code
    return fft, gi, c["pilotpattern"].removeprefix("PILOT_"), 1 if l1b > 5 else l1b


@pytest.mark.parametrize("case", SETS, ids=[c["set"][:9] for c in SETS])
def test_bootstrap_native_rate(case):
    d = VECTORS / "atsc3" / case["set"]
    fft, gi, pattern, l1b = _frame_params(d)
    row = ofdm()["preamble_pilots"]["rows"][preamble_row(fft, gi, pattern)]
    ps = preamble_structure(fft, gi, row["preamble_Dx"], l1b)
    fields = BootstrapFields(min_time_to_next=0, bsr_coefficient=2, preamble_structure=ps)
    got = bootstrap(fields)
    ref = np.fromfile(d / "11_bootstrap_6144ksps.cf32", np.complex64)
    assert np.max(np.abs(got - ref)) <= 1e-4 * np.max(np.abs(ref))
    assert decode(ref) == fields  # gr-atsc3's bootstrap signals what sdrcast reads back


@pytest.mark.parametrize("sid, d, sfx, lay, fi_all", SUBFRAMES, ids=[s[0] for s in SUBFRAMES])
def test_ofdm_symbols_and_bootstrap_in_the_frame(sid, d, sfx, lay, fi_all):
    """File 10 = bootstrap resampled to 6.912 Msps (gr-atsc3's own filter: within -40 dB NMSE)
    + every OFDM symbol with its guard interval (max error 1e-4 of the peak)."""
    with np.load(d / f"09_ofdm_active_carriers_with_pilots{sfx}.npz") as z:
        carriers = z["cells"]
    syms, a = [], 0
    for kind in lay.kinds:
        k = noc(lay.fft, 4 if kind == "FP" else 0)
        syms.append(carriers[a:a + k])
        a += k
    time = modulate(syms, lay)
    ref = np.fromfile(d / "10_baseband_6912ksps.cf32", np.complex64)
    boot = 13824
    if sfx == "_sub1":  # after the bootstrap and subframe 0
        ref = ref[ref.size - time.size:]
    else:
        ref_boot, ref = ref[:boot], ref[boot:boot + time.size]
        fft, gi, pattern, l1b = _frame_params(d)
        row = ofdm()["preamble_pilots"]["rows"][preamble_row(fft, gi, pattern)]
        fields = BootstrapFields(bsr_coefficient=2,
                                 preamble_structure=preamble_structure(fft, gi, row["preamble_Dx"], l1b))
        b = bootstrap_at(6.912e6, fields)
        assert 10 * np.log10(np.sum(np.abs(b - ref_boot) ** 2) / np.sum(np.abs(ref_boot) ** 2)) < -40
    assert np.max(np.abs(time - ref)) <= 1e-4 * np.max(np.abs(ref))
