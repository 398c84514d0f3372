"""Links the sweep harness can run: ``run_batch(params, snr_db, batch) -> counts`` is a pure
function of its arguments (seeds derive from them), so local and cluster runs agree exactly.

* ``reference``: the generic OFDM + QAM link, uncoded; a frame is one OFDM frame.
* ``reference-ldpc``: the same link carrying DTMB rate-0.6 LDPC codewords (7488 bits); a frame
  is one codeword.
* ``dtmb``: the DTMB transmitter and the DTMB receiver given the configuration (``params["dtmb"]``: a
  preset name or a dict of ``DtmbConfig`` fields; default ``mode6`` with interleaver mode 1); a
  frame is one signal frame of TS, in error when any of its bytes is wrong. Each batch first
  fills the time deinterleaver (170 or 510 frames).
* ``fembms``: the FeMBMS transmitter and receiver (no configuration given to it); a frame is one
  MCH transport block (``run_fembms``).
* ``atsc3``: the ATSC 3.0 transmitter and streaming receiver (no configuration given to it),
  one PLP decoded; a frame is one of its FEC blocks (``run_atsc3``).
"""
from __future__ import annotations

from functools import cache

import numpy as np

from sdrcast.channel.emulator import ChannelConfig, ChannelEmulator
from sdrcast.errors import ConfigError
from sdrcast.phy.fec import LdpcCode
from sdrcast.phy.reference_link import ReferenceLink, ReferenceLinkConfig
from sdrcast.standards import STANDARDS, load, sweep_links

LINKS = sweep_links()


@cache
def _link(order: int) -> ReferenceLink:
    return ReferenceLink(ReferenceLinkConfig(order=order))


def _channel(params: dict, snr_db: float, seed: int, link: ReferenceLink) -> ChannelEmulator:
    """Emulator with the SNR defined over the link's occupied band."""
    ch = dict(params.get("channel") or {})
    cfg = link.cfg
    return ChannelEmulator(ChannelConfig(sample_rate=cfg.sample_rate, snr_db=snr_db,
                                         bandwidth=cfg.occupied_bandwidth, seed=seed, **ch))


def _dtmb_config(spec):
    from sdrcast.config import from_mapping
    from sdrcast.phy.dtmb import PRESETS, DtmbConfig

    if spec is None:
        return DtmbConfig("pn420", False, 3780, "64QAM", 0.6, 1)
    if isinstance(spec, str):
        if spec not in PRESETS:
            raise ConfigError(f"dtmb={spec!r} is not a preset; choose one of {sorted(PRESETS)}")
        return PRESETS[spec]
    return from_mapping(DtmbConfig, spec)


def run_dtmb(params: dict, snr_db: float, seed: list[int], n: int) -> dict:
    from sdrcast.errors import SyncLost
    from sdrcast.mac.ts import sample_stream
    from sdrcast.phy.dtmb import DtmbReceiver, DtmbTransmitter
    from sdrcast.phy.dtmb.config import SYMBOL_RATE
    from sdrcast.phy.dtmb.stages import latency_frames

    cfg = _dtmb_config(params.get("dtmb"))
    rx = DtmbReceiver(config=cfg)
    n = -(-n // cfg.frames_per_group) * cfg.frames_per_group
    frames = latency_frames(cfg) + n + cfg.frames_per_group  # the last frame needs the next header
    ts = sample_stream(frames * cfg.ts_bytes_per_frame // 188, seed=seed[2] + 7919 * seed[0])
    tx = DtmbTransmitter(cfg).push(ts)
    ch = dict(params.get("channel") or {})
    emu = ChannelEmulator(ChannelConfig(sample_rate=SYMBOL_RATE, snr_db=snr_db,
                                        seed=int(np.random.SeedSequence(seed).generate_state(1)[0]),
                                        **ch))
    y = emu(np.concatenate([tx, np.zeros(emu.latency, np.complex64)]))[emu.latency:][:tx.size]
    try:
        out, rep = rx.demodulate(y)
        skip = round(rep["sync"]["start"] / cfg.frame_symbols)  # frames before the one synced to
    except SyncLost:  # no header found at this SNR: every frame is lost
        out, rep, skip = np.zeros(0, np.uint8), {"mer_db": None}, 0
    ts = ts[skip * cfg.ts_bytes_per_frame:]
    out = out[:n * cfg.ts_bytes_per_frame]
    if out.size < n * cfg.ts_bytes_per_frame:  # frames the receiver never delivered count as lost
        out = np.concatenate([out, np.zeros(n * cfg.ts_bytes_per_frame - out.size, np.uint8)])
    got = out.reshape(n, cfg.ts_bytes_per_frame)
    ref = ts[:out.size].reshape(n, cfg.ts_bytes_per_frame)
    bit_err = np.unpackbits(got ^ ref, axis=1)
    return {"frames": n, "frame_errors": int(np.any(got != ref, axis=1).sum()),
            "bits": int(bit_err.size), "bit_errors": int(bit_err.sum()),
            "mer_db": rep["mer_db"]}


def run_batch(params: dict, snr_db: float, batch: int) -> dict:
    """Send ``params["batch_frames"]`` frames at ``snr_db`` through the channel; count errors."""
    name = params["link"]
    if name not in LINKS:
        raise ConfigError(f"link={name!r} is not allowed; choose one of {list(LINKS)}")
    seed = [int(params.get("seed", 0)), int(round(snr_db * 1000)) % 2 ** 32, batch]  # SNR < 0 too
    if name in STANDARDS:
        return load(STANDARDS[name].sweep)(params, snr_db, seed, int(params["batch_frames"]))
    link = _link(int(params.get("order", 16)))
    cfg = link.cfg
    rng = np.random.default_rng(seed)
    n = int(params["batch_frames"])
    if name == "reference":
        bits = rng.integers(0, 2, n * cfg.bits_per_frame, dtype=np.uint8)
        frames_tx = bits.reshape(n, -1)
    else:
        code = LdpcCode.dtmb(0.6)
        info = rng.integers(0, 2, (n, code.k), dtype=np.uint8)
        cw = code.encode(info).reshape(-1)
        n_ofdm = -(-cw.size // cfg.bits_per_frame)
        bits = np.concatenate([cw, rng.integers(0, 2, n_ofdm * cfg.bits_per_frame - cw.size,
                                                dtype=np.uint8)])
    emu = _channel(params, snr_db, int(np.random.SeedSequence(seed).generate_state(1)[0]), link)
    tx = link.modulate(bits)
    rx = emu(np.concatenate([tx, np.zeros(emu.latency, np.complex64)]))[emu.latency:]
    llr, cells, report = link.demodulate(rx[:tx.size])
    if name == "reference":
        rx_frames = (llr < 0).astype(np.uint8).reshape(n, -1)
        ref = frames_tx
    else:
        llr_cw = llr[:n * code.n].reshape(n, code.n)
        rx_frames, _ = code.decode(llr_cw, iterations=50)
        ref = info
    errors = rx_frames != ref
    return {"frames": n, "frame_errors": int(np.any(errors, axis=1).sum()),
            "bits": int(ref.size), "bit_errors": int(errors.sum()), "mer_db": report["mer_db"]}


def run_fembms(params: dict, snr_db: float, seed: list[int], n: int) -> dict:
    """FeMBMS: the preset ``params["fembms"]`` (default ``5mhz_1k25_mcs9``) carrying UDP packets
    in every MBSFN subframe, whole MCH scheduling periods (at least ``n`` MCH subframes),
    through the channel, into ``FembmsReceiver`` with no configuration. A frame is one MCH
    transport block (the receiver's CRC says which failed); bits are the packets' bytes, a
    packet not delivered counting as all wrong. Es/N0 over the occupied band (12 N_RB x 15 kHz)."""
    from sdrcast.errors import SyncLost
    from sdrcast.mac.ip import udp_datagram
    from sdrcast.phy.fembms.config import FembmsConfig
    from sdrcast.phy.fembms.receiver import FembmsReceiver
    from sdrcast.phy.fembms.transmitter import FembmsTransmitter

    cfg = FembmsConfig.preset(params.get("fembms") or "5mhz_1k25_mcs9")
    tx = FembmsTransmitter(cfg)
    periods = -(-n // cfg.mch_subframes)
    rng = np.random.default_rng(seed)
    count = int(0.9 * tx.scheduler.tbs[0] * (cfg.mch_subframes - cfg.data_start) * periods / 1228)
    packets = [udp_datagram(rng.integers(0, 256, 1200, np.uint8).tobytes(), ("10.0.0.1", 4000),
                            ("239.255.0.1", 5000), ident=i & 0xFFFF) for i in range(count)]
    iq = tx.modulate([(cfg.sessions[0].lcid, p) for p in packets])
    ch = dict(params.get("channel") or {})
    emu = ChannelEmulator(ChannelConfig(sample_rate=cfg.rate, snr_db=snr_db, bandwidth=cfg.n_rb * 180e3,
                                        seed=int(np.random.SeedSequence(seed).generate_state(1)[0]), **ch))
    y = emu(np.concatenate([iq, np.zeros(emu.latency, np.complex64)]))[emu.latency:]
    blocks = periods * cfg.mch_subframes
    try:
        got, rep = FembmsReceiver(cfg.rate).demodulate(y)
        mch, mer = rep["fec"]["mch"], rep["mer_db"]
        errors = mch["errors"] + max(blocks - mch["blocks"], 0)  # subframes never decoded
    except SyncLost:
        got, errors, mer = [], blocks, None
    sent = np.frombuffer(b"".join(packets), np.uint8)
    recv = np.frombuffer(b"".join(got), np.uint8)[:sent.size]
    recv = np.concatenate([recv, ~sent[recv.size:]])
    return {"frames": blocks, "frame_errors": int(errors), "bits": int(8 * sent.size),
            "bit_errors": int(np.unpackbits(sent ^ recv).sum()), "mer_db": mer}


def run_atsc3(params: dict, snr_db: float, seed: list[int], n: int) -> dict:
    """ATSC 3.0: the preset ``params["atsc3"]`` (default ``mobile_fixed_tdm``), every PLP
    carrying TS, through the channel (after an unknown lead) into ``Atsc3Receiver`` with no
    configuration, decoding PLP ``params["plp"]`` (default: the first) alone. A frame is one
    of its FEC blocks, in error when LDPC or the outer code failed it or it was never decoded
    (frames lost; a CTI PLP's first R (R - 1) cells excepted); bits are its TS packets', a
    packet not delivered intact counting as all wrong (so "BER" is a packet error rate). Es/N0
    over the occupied band."""
    from sdrcast.errors import SyncLost
    from sdrcast.mac.ts import sample_stream
    from sdrcast.phy.atsc3 import Atsc3Config, Atsc3Transmitter
    from sdrcast.phy.atsc3.pilots import noc
    from sdrcast.phy.atsc3.receiver import Atsc3Receiver

    cfg = Atsc3Config.preset(params.get("atsc3") or "mobile_fixed_tdm")
    plps = {p.plp_id: p for s in cfg.subframes for p in s.plps}
    plp = params.get("plp", min(plps))
    if plp not in plps:
        raise ConfigError(f"plp={plp}: {params.get('atsc3') or 'mobile_fixed_tdm'} has PLPs {sorted(plps)}")
    p = plps[plp]
    tx = Atsc3Transmitter(cfg)
    cti = p.cti_depth * (p.cti_depth - 1) if p.ti_mode == "CTI" else 0
    frames = -(-(n * p.cells_per_fec_block + cti) // p.cells)
    seconds = frames * tx.frame_samples_count / cfg.sample_rate
    s0 = int(seed[2] + 7919 * seed[0])
    ts = {i: sample_stream(int(r * seconds / 8 / 188), seed=s0 + i) for i, r in tx.payload_bitrates().items()}
    iq = tx.modulate(ts)
    lead = int(np.random.default_rng(seed).integers(1000, 20000))
    sub = cfg.subframes[0]
    band = cfg.sample_rate * noc(sub.fft_size, sub.reduced_carriers) / sub.fft_size
    ch = dict(params.get("channel") or {})
    emu = ChannelEmulator(ChannelConfig(sample_rate=cfg.sample_rate, snr_db=snr_db, bandwidth=band,
                                        seed=int(np.random.SeedSequence(seed).generate_state(1)[0]), **ch))
    x = np.concatenate([np.zeros(lead, np.complex64), iq, np.zeros(emu.latency + 5000, np.complex64)])
    y = emu(x)[emu.latency:]
    blocks = (frames * p.cells - cti) // p.cells_per_fec_block
    try:
        got, rep = Atsc3Receiver(cfg.sample_rate, plps=[plp]).demodulate(y)
        c = rep["plps"][plp]
        errors = max(c["ldpc_failures"], c["outer_failures"]) + max(blocks - c["fec_blocks"], 0)
        out, mer = got.get(plp, np.zeros(0, np.uint8)), c["mer_db"]
    except SyncLost:
        errors, out, mer = blocks, np.zeros(0, np.uint8), None
    # by packet, not by position: packets the receiver never saw (before it joined) or marked
    # lost would shift every later one
    got_packets = {bytes(q) for q in out[:out.size - out.size % 188].reshape(-1, 188)}
    missing = sum(bytes(q) not in got_packets for q in ts[plp].reshape(-1, 188))
    return {"frames": blocks, "frame_errors": int(min(errors, blocks)), "bits": int(8 * ts[plp].size),
            "bit_errors": 8 * 188 * missing, "mer_db": mer}
