"""Random-input fuzzing of every parser of received data: each must return, or reject its input
with ``ParseError`` (the receivers count such input and go on) — never raise anything else.

``run(cases, seed)`` feeds each target ``cases`` inputs (random bytes, and for checksummed
formats random content with a valid checksum, so the parser behind the check is reached) and
returns, per target, how many were accepted, rejected and escaped (with the first escapes).
``tests/unit/test_parser_fuzz.py`` runs a few thousand cases; ``benchmarks/fuzz.py`` 20,000+.
"""
from __future__ import annotations

import struct
import traceback
from collections.abc import Callable
from functools import cache

import numpy as np

from sdrcast.errors import ParseError


def _random_bytes(rng: np.random.Generator, max_len: int) -> bytes:
    return rng.integers(0, 256, int(rng.integers(0, max_len + 1)), np.uint8).tobytes()


def _pmt(rng: np.random.Generator) -> None:
    from sdrcast.sdr_io import pmt

    if rng.random() < 0.5:
        buf = _random_bytes(rng, 64)
    else:  # a valid PMT, mutated: deeper into the parser than random bytes get
        value = {"freq": 586e6, "tags": [1, 2.5, "x", (3, None)],
                 "v": np.arange(int(rng.integers(0, 9)), dtype=np.int16)}
        b = bytearray(pmt.serialize(value))
        for _ in range(int(rng.integers(1, 4))):
            b[int(rng.integers(0, len(b)))] = int(rng.integers(0, 256))
        buf = bytes(b[:int(rng.integers(0, len(b) + 1))])
    pmt.deserialize(buf)


def _tag_header(rng: np.random.Generator) -> None:
    from sdrcast.sdr_io.zmq import MAGIC, VERSION, decode_tag_header

    body = _random_bytes(rng, 96)
    if rng.random() < 0.7:  # get past the magic, with a few tags announced
        body = (struct.pack("<HBQQ", MAGIC, VERSION, int(rng.integers(0, 1 << 20)),
                            int(rng.integers(0, 4))) + body)
    decode_tag_header(body)


def _crc_valid(bits: np.ndarray) -> np.ndarray:
    from sdrcast.phy.atsc3.l1 import l1_crc

    return np.concatenate([bits, l1_crc(bits)])


@cache
def _l1b() -> dict:
    from sdrcast.phy.atsc3 import Atsc3Config
    from sdrcast.phy.atsc3.framing import l1_bits
    from sdrcast.phy.atsc3.l1 import parse_l1_basic

    return parse_l1_basic(l1_bits(Atsc3Config.preset("mobile_fixed_tdm"))[0])


def _l1_basic(rng: np.random.Generator) -> None:
    from sdrcast.phy.atsc3.l1 import L1B_BITS, parse_l1_basic

    n = L1B_BITS - 32 if rng.random() < 0.9 else int(rng.integers(0, 300))
    parse_l1_basic(_crc_valid(rng.integers(0, 2, n, np.uint8)))


def _l1_detail(rng: np.random.Generator) -> None:
    from sdrcast.phy.atsc3.l1 import parse_l1_detail

    n = int(rng.integers(0, 3000))
    parse_l1_detail(_crc_valid(rng.integers(0, 2, n, np.uint8)), _l1b())


def _baseband(rng: np.random.Generator) -> None:
    from sdrcast.mac.atsc3.baseband import BasebandDepacketizer, payload

    payload(np.frombuffer(_random_bytes(rng, 8), np.uint8))
    n, size = int(rng.integers(1, 6)), int(rng.integers(1, 40))
    packets = rng.integers(0, 256, (n, size), np.uint8)
    BasebandDepacketizer().push(packets, rng.random(n) < 0.8)


def _alp(rng: np.random.Generator) -> None:
    from sdrcast.mac.atsc3.alp import Decapsulator

    d = Decapsulator()
    for _ in range(3):
        d.push(np.frombuffer(_random_bytes(rng, 600), np.uint8))


def _ipv4(rng: np.random.Generator) -> None:
    from sdrcast.mac.ip import split_datagrams

    split_datagrams(np.frombuffer(_random_bytes(rng, 200), np.uint8))


def _ipv4_checksums(rng: np.random.Generator) -> None:
    from sdrcast.mac.ip import udp_datagram, with_checksums

    valid = udp_datagram(_random_bytes(rng, 60), ("10.0.0.1", 1), ("239.0.0.1", 2))
    with_checksums(_mutated(rng, valid) if rng.random() < 0.7 else _random_bytes(rng, 80))


def _mutated(rng: np.random.Generator, valid: bytes) -> bytes:
    """``valid`` with a few bytes changed and maybe cut short: past the first checks."""
    b = bytearray(valid)
    for _ in range(int(rng.integers(1, 4))):
        b[int(rng.integers(0, len(b)))] = int(rng.integers(0, 256))
    return bytes(b[:int(rng.integers(0, len(b) + 1))])


@cache
def _fembms_samples() -> dict[str, bytes]:
    from sdrcast.mac.fembms import mch, rrc

    mcch = rrc.mbsfn_area_configuration(
        mcc="901", mnc="56", common_sf_alloc=63, common_sf_alloc_period="rf32",
        pmchs=(rrc.PmchInfo(100, 9, "rf32", (rrc.Session(b"\0\1\2", 0, 2),)),
               rrc.PmchInfo(311, 20, "rf32", (rrc.Session(b"\0\1\3", 1, 3),), "256QAM")))
    sib = rrc.sib1_mbms(mcc="901", mnc="56", tac=1, cell_identity=1, band=20, area_id=1,
                        non_mbsfn_region="s2", mcch_repetition="rf32", mcch_offset=0,
                        mcch_modification="rf512", mcch_subframe=1, signalling_mcs=2,
                        numerology="1.25")
    pdu = mch.pack([(mch.LCID_MSI, mch.msi([(2, 311)])), (mch.LCID_MCCH, b"\0" + mcch),
                    (2, bytes(300))], 501)
    return {"mcch": mcch, "sib": sib, "pdu": pdu}


def _fembms_mac(rng: np.random.Generator) -> None:
    from sdrcast.mac.fembms import mch

    pdu = _random_bytes(rng, 600) if rng.random() < 0.3 else _mutated(rng, _fembms_samples()["pdu"])
    for lcid, body in mch.unpack(pdu).elements:
        if lcid == mch.LCID_MSI:
            mch.parse_msi(body)


def _fembms_rlc(rng: np.random.Generator) -> None:
    from sdrcast.mac.fembms.rlc import RlcUmRx

    rx = RlcUmRx()
    for _ in range(int(rng.integers(1, 6))):
        rx.push(_random_bytes(rng, 40))


def _fembms_rrc(rng: np.random.Generator) -> None:
    from sdrcast.mac.fembms import rrc

    kind = "mcch" if rng.random() < 0.5 else "sib"
    data = _random_bytes(rng, 40) if rng.random() < 0.3 else _mutated(rng, _fembms_samples()[kind])
    if kind == "mcch":
        rrc.pmchs_of(rrc.parse_mcch(data))
    else:
        rrc.parse_sib1_mbms(data)


def _fembms_dci(rng: np.random.Generator) -> None:
    from sdrcast.phy.fembms.pdsch import parse_dci_1a

    n_rb = int(rng.choice([6, 15, 25, 50, 75, 100]))
    parse_dci_1a(rng.integers(0, 2, int(rng.integers(0, 30)), np.uint8), n_rb)


@cache
def _psi_samples() -> dict[str, bytes]:
    from sdrcast.mac.ts import psi

    return {"pat": psi.pat(1, {1: 0x1000, 2: 0x1010}),
            "pmt": psi.pmt(1, 0x100, [(0x1B, 0x100), (0x0F, 0x101)]),
            "sdt": psi.sdt(1, 1, {1: ("sdrcast", "test"), 2: ("x", "y")})}


def _psi(rng: np.random.Generator) -> None:
    """A section (random, or a valid PAT/PMT/SDT mutated, its CRC made right so that the
    table parsers are reached) through ``parse_section`` and its table's parser."""
    from sdrcast.mac.ts import psi
    from sdrcast.phy.crc import CRC32_MPEG2

    kind = ("pat", "pmt", "sdt")[int(rng.integers(0, 3))]
    if rng.random() < 0.3:
        raw = _random_bytes(rng, 200)
    else:
        raw = bytearray(_mutated(rng, _psi_samples()[kind]))
        if len(raw) >= 7 and rng.random() < 0.8:
            raw[1:3] = bytes([0xB0 | ((len(raw) - 3) >> 8) & 0x0F, (len(raw) - 3) & 0xFF])
            raw[-4:] = CRC32_MPEG2(bytes(raw[:-4])).to_bytes(4, "big")
        raw = bytes(raw)
    s = psi.parse_section(raw)
    {"pat": psi.parse_pat, "pmt": psi.parse_pmt, "sdt": psi.parse_sdt}[kind](s)


def _ts_analyzer(rng: np.random.Generator) -> None:
    """Packets of a valid program stream, some bytes changed, through the TR 101 290
    analyser (its section assembler and table parsers included): it must never raise."""
    from sdrcast.mac.ts.mux import ProgramMux
    from sdrcast.mac.ts.tr101290 import TsAnalyzer

    ts = ProgramMux(2e6, seed=int(rng.integers(0, 1000))).packets(int(rng.integers(1, 60)))
    hits = int(rng.integers(0, 40))
    ts[rng.integers(0, ts.size, hits)] = rng.integers(0, 256, hits, dtype=np.uint8)
    TsAnalyzer(pid_timeout_s=0.01).feed(ts, 0.0, float(rng.random()))


def _ip_flow(rng: np.random.Generator) -> None:
    from sdrcast.mac.ip import flow, udp_datagram

    raw = _random_bytes(rng, 60) if rng.random() < 0.5 else \
        _mutated(rng, udp_datagram(b"x" * 8, ("10.0.0.1", 1), ("239.1.1.1", 5000)))
    flow(raw)


TARGETS: dict[str, Callable[[np.random.Generator], None]] = {
    "ts.psi.parse_section+tables": _psi, "ts.TsAnalyzer": _ts_analyzer, "ip.flow": _ip_flow,
    "fembms.mch.unpack+parse_msi": _fembms_mac, "fembms.RlcUmRx": _fembms_rlc,
    "fembms.rrc.parse_mcch+pmchs_of/sib1": _fembms_rrc, "fembms.parse_dci_1a": _fembms_dci,
    "pmt.deserialize": _pmt, "zmq.decode_tag_header": _tag_header,
    "l1.parse_l1_basic": _l1_basic, "l1.parse_l1_detail": _l1_detail,
    "baseband.payload+depacketizer": _baseband, "alp.Decapsulator": _alp,
    "ip.split_datagrams": _ipv4, "ip.with_checksums": _ipv4_checksums,
}


def run(cases: int, seed: int = 0, targets: dict | None = None) -> dict[str, dict]:
    """Fuzz each target ``cases`` times; per target {"accepted", "rejected", "escaped",
    "examples"} (examples: the first three escaped exceptions with their tracebacks)."""
    out = {}
    for i, (name, target) in enumerate((targets or TARGETS).items()):
        rng = np.random.default_rng([seed, i])
        res = {"accepted": 0, "rejected": 0, "escaped": 0, "examples": []}
        for _ in range(cases):
            try:
                target(rng)
                res["accepted"] += 1
            except ParseError:
                res["rejected"] += 1
            except Exception as exc:  # noqa: BLE001 - what the fuzzing is looking for
                res["escaped"] += 1
                if len(res["examples"]) < 3:
                    res["examples"].append(f"{type(exc).__name__}: {exc}\n"
                                           + traceback.format_exc(limit=-3))
        out[name] = res
    return out
