"""Copy the shared reference vectors the tests use into vectors/ and write the manifest.

    python tools/copy_vectors.py ../shared/vectors

ATSC 3.0: every stage file (00..11) and metadata.json of each set; the manifest lists each set
(stage "tx") and, per PLP, its FEC files 02 (BCH input), 03 (BCH codewords), 04 (LDPC codewords);
a config.toml reproducing each set goes beside it and into the package's presets (vector_sNN).
DTMB: every stage file of the six short sets, meta.json, and a config.toml that reproduces
the set with ``DtmbConfig.load``; of the two long sets (340 and 400 frames), the TS and the
CI8 baseband.
FeMBMS: the three npz files (stage arrays; the 40 ms carrier through the MCCH; the 320 ms carrier
with its IP packets and MAC PDUs), metadata.json and the README, listed as three cases.
"""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRESETS = ROOT / "sdrcast" / "phy" / "atsc3" / "presets"
SIZES = {"FECFRAME_NORMAL": 64800, "FECFRAME_SHORT": 16200}


def atsc3(src: Path, dst: Path) -> list[dict]:
    cases = []
    for d in sorted(p for p in src.iterdir() if p.is_dir()):
        meta = json.loads((d / "metadata.json").read_text())
        g = meta["gr_atsc3_parameters"]
        plps = g["plps"] if "plps" in g else [g]
        suffixes = sorted({f.name.removeprefix("03_bch_codewords").removesuffix(".npy")
                           for f in d.glob("03_bch_codewords*.npy")})
        out = dst / d.name
        out.mkdir(parents=True, exist_ok=True)
        for f in sorted(d.iterdir()):  # every stage file 00..11 and the metadata
            shutil.copy(f, out)
        toml = _atsc3_toml(meta)
        (out / "config.toml").write_text(toml)
        (PRESETS / f"vector_{d.name.split('_')[1]}.toml").write_text(toml)
        cases.append({"standard": "atsc3", "set": d.name, "stages": ["tx"],
                      "files": {f.name: f"atsc3/{d.name}/{f.name}" for f in sorted(out.iterdir())},
                      "format": "see vectors/atsc3/README.md",
                      "origin": "independent implementation: drmpeg/gr-atsc3 @ 6c80984"})
        for plp, suffix in zip(plps, suffixes, strict=True):
            files = {}
            for stage in ("02_bbframes_scrambled", "03_bch_codewords", "04_ldpc_codewords"):
                name = f"{stage}{suffix}.npy"
                files[stage[:2]] = f"atsc3/{d.name}/{name}"
            cases.append({"standard": "atsc3", "set": d.name, "plp": suffix.lstrip("_") or "plp0",
                          "stages": ["bch", "ldpc"], "n": SIZES[plp["framesize"]],
                          "rate": plp["rate"].removeprefix("C").replace("_", "/"),
                          "files": files, "format": "uint8 bits packed MSB first, one row per FEC frame",
                          "origin": "independent implementation: drmpeg/gr-atsc3 @ 6c80984"})
    shutil.copy(src / "README.md", dst / "README.md")
    return cases


def dtmb(src: Path, dst: Path) -> list[dict]:
    cases = []
    for d in sorted(p for p in src.iterdir() if p.is_dir() and not p.name.startswith("long")):
        meta = json.loads((d / "meta.json").read_text())
        out = dst / d.name
        out.mkdir(parents=True, exist_ok=True)
        files = {}
        for f in sorted(d.glob("*.npy")) + [d / "meta.json"]:
            shutil.copy(f, out)
            files[f.name.split("_")[0]] = f"dtmb/{d.name}/{f.name}"
        (out / "config.toml").write_text(_dtmb_toml(meta))
        files["config"] = f"dtmb/{d.name}/config.toml"
        cases.append({"standard": "dtmb", "set": d.name, "stages": ["bch", "ldpc", "tx"],
                      "rate": meta["ldpc_rate"], "files": files,
                      "format": "see vectors/dtmb/README.md (bits uint8 0/1, samples complex64)",
                      "origin": "independent implementation: ningzichun/dtmb-sdr @ 7a6d78f"})
    long = src / "long_pn945_c3780_64qam_r08_m1_340frames"
    out = dst / long.name
    out.mkdir(parents=True, exist_ok=True)
    for name in ("00_ts_bytes.npy", "08_framed_baseband_ci8.bin", "meta.json"):
        shutil.copy(long / name, out)
    cases.append({"standard": "dtmb", "set": long.name, "stages": ["rx"],
                  "files": {"00": f"dtmb/{long.name}/00_ts_bytes.npy",
                            "08_ci8": f"dtmb/{long.name}/08_framed_baseband_ci8.bin",
                            "meta.json": f"dtmb/{long.name}/meta.json"},
                  "format": "08_ci8: interleaved int8 I/Q (sdrcast cs8), 7.56 Msps",
                  "decodable_ts_frames": [0, 169],
                  "origin": "independent implementation: ningzichun/dtmb-sdr @ 7a6d78f; "
                            "its C++ receiver decoded frames 43..168 of the same file"})
    long = src / "long_pn420_c3780_16qam_r08_m1_const_400frames"
    out = dst / long.name
    out.mkdir(parents=True, exist_ok=True)
    for name in ("00_ts_bytes.npy", "08_framed_baseband_ci8.npy", "meta.json"):
        shutil.copy(long / name, out)
    meta = json.loads((long / "meta.json").read_text())
    cases.append({"standard": "dtmb", "set": long.name, "stages": ["rx"],
                  "files": {"00": f"dtmb/{long.name}/00_ts_bytes.npy",
                            "08_ci8": f"dtmb/{long.name}/08_framed_baseband_ci8.npy",
                            "meta.json": f"dtmb/{long.name}/meta.json"},
                  "format": "08_ci8: int8 array (samples, 2) = I, Q; 7.56 Msps",
                  "decodable_ts_frames": meta["interleaver_delay"]["decodable_ts_frames"],
                  "origin": "independent implementation: ningzichun/dtmb-sdr @ 7a6d78f (Python "
                            "modules); checked by a separate receiver-side loopback"})
    shutil.copy(src / "README.md", dst / "README.md")
    return cases


def fembms(src: Path, dst: Path) -> list[dict]:
    dst.mkdir(parents=True, exist_ok=True)
    for f in sorted(src.iterdir()):
        shutil.copy(f, dst)
    origin = ("srsRAN_4G fork 96e6590 (5G-MAG rt-mbms-modem dce01d6) and rt-mbms-tx 67de748 PHY "
              "libraries; streams received by the unmodified rt-mbms-modem (vectors/fembms/README.md)")
    stages = {"fembms_vectors.npz": ["pbch", "cas", "mch", "pmch"],
              "fembms_stream_40ms.npz": ["tx_stream", "rx_stream"],
              "fembms_stream_mtch_ip.npz": ["tx_stream", "rx_stream", "mac"]}
    return [{"standard": "fembms", "set": name.removesuffix(".npz"), "stages": st,
             "files": {"npz": f"fembms/{name}", "metadata": "fembms/metadata.json"},
             "format": "numpy npz: bits uint8 0/1, samples complex64 at 7.68 Msps",
             "origin": origin} for name, st in stages.items()]


def _atsc3_toml(meta: dict) -> str:
    """A config.toml reproducing the set with ``Atsc3Config.load``."""
    g = meta["gr_atsc3_parameters"]
    c = g.get("common", g)
    plps = g.get("plps", [g])
    l1b = int(c["l1bmode"].rsplit("_", 1)[1])
    lines = [f"# reproduces vector set {meta['name']} (sdrcast Atsc3Config)",
             "bsr_coefficient = 2", "min_time_to_next = 0",
             f"num_preamble_symbols = {c['numpreamblesyms']}",
             f"l1_basic_fec_mode = {l1b}",
             f"l1_detail_fec_mode = {int(c['l1dmode'].rsplit('_', 1)[1])}"]
    if l1b > 5:  # Annex H signals modes 1-5; gr-atsc3 sends mode 1's preamble_structure
        lines.append("preamble_structure = 15  # gr-atsc3's code for L1-Basic mode 6 at 8K GI4")
    if "sub1" in g:  # gr-atsc3's subframe mapper: one PLP per subframe, SBS first in subframe 1
        subs = [(c, plps[:1]), ({**c, **g["sub1"], "firstsbs": "SBS_ON"}, plps[1:])]
    else:
        subs = [(c, plps)]
    plp_id = 0
    for sc, sub_plps in subs:
        fft = int(sc["fftsize"].split("_")[1].removesuffix("K")) * 1024
        lines += ["", "[[subframes]]", f"fft_size = {fft}",
                  f"guard_interval = {int(sc['guardinterval'].split('_')[1])}",
                  f"scattered_pilot_pattern = \"{sc['pilotpattern'].removeprefix('PILOT_')}\"",
                  f"scattered_pilot_boost = {int(sc['pilotboost'].split('_')[1])}",
                  f"num_ofdm_symbols = {sc['numpayloadsyms']}",
                  f"sbs_first = {str(sc['firstsbs'] == 'SBS_ON').lower()}",
                  f"frequency_interleaver = {str(sc['fimode'] == 'FREQ_ALL_SYMBOLS').lower()}"]
        for p in sub_plps:
            lines += _atsc3_plp_toml(p, plp_id, plps[0], g)
            plp_id += 1
    return "\n".join(lines) + "\n"


def _atsc3_plp_toml(p: dict, plp_id: int, core: dict, g: dict) -> list[str]:
    n = {"FECFRAME_NORMAL": 64800, "FECFRAME_SHORT": 16200}[p["framesize"]]
    lines = ["", "[[subframes.plps]]"]
    if "timode" not in p:  # LDM enhanced layer: as many cells as the core PLP
        eta = {"QPSK": 2, "16QAM": 4, "64QAM": 6, "256QAM": 8, "1024QAM": 10, "4096QAM": 12}[
            p["constellation"].removeprefix("MOD_")]
        p = {**p, "tifecblocks": core["plpsize"] // (n // eta), "timode": "TI_MODE_OFF"}
        lines += ["layer = 1",
                  f"ldm_injection_level_db = {int(g['level'].split('_')[2].removesuffix('DB')) / 10}"]
    lines += [f"plp_id = {plp_id}", "fec_type = \"BCH+LDPC\"",
              f"ldpc_length = {n}",
              f"code_rate = \"{p['rate'].removeprefix('C').replace('_', '/')}\"",
              f"modulation = \"{p['constellation'].removeprefix('MOD_')}\"",
              f"fec_blocks = {p['tifecblocks']}"]
    if p["timode"] == "TI_MODE_CONVOLUTIONAL":
        lines += ["ti_mode = \"CTI\"", f"cti_depth = {int(p['tidepth'].split('_')[2].split()[0])}"]
    if p["timode"] == "TI_MODE_HYBRID":
        lines += ["ti_mode = \"HTI\"", f"hti_ti_blocks = {p['tiblocks']}",
                  f"hti_fec_blocks_max = {p['tifecblocksmax']}"]
    return lines


def _dtmb_toml(meta: dict) -> str:
    return (f"# reproduces vector set {meta['name']} (sdrcast DtmbConfig)\n"
            f"header = \"{meta['header_mode']}\"\n"
            f"header_rotating = {str(meta['header_rotating']).lower()}\n"
            f"carriers = {3780 if meta['frame_body_mode'] == 'C3780' else 1}\n"
            f"constellation = \"{meta['constellation']}\"\n"
            f"ldpc_rate = {meta['ldpc_rate']}\n"
            f"interleaver_mode = {1 if meta['time_interleaver']['mode'] == 'mode1' else 2}\n"
            f"header_power_ratio = {meta['header_to_body_power_ratio']}\n")


def main() -> None:
    shared = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT.parent / "shared" / "vectors")
    vec = ROOT / "vectors"
    cases = atsc3(shared / "atsc3", vec / "atsc3") + dtmb(shared / "dtmb", vec / "dtmb") + \
        fembms(shared / "fembms", vec / "fembms")
    manifest_path = vec / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {"cases": []}
    keep = [c for c in manifest["cases"] if c["standard"] not in ("atsc3", "dtmb", "fembms")]
    manifest["cases"] = keep + cases
    manifest_path.write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"{len(cases)} cases written to {manifest_path}")


if __name__ == "__main__":
    main()
