"""DTMB transmitter: MPEG-TS in, complex baseband out at 7.56 Msps or SRRC-shaped at a radio's
rate (GB 20600-2006)."""
from __future__ import annotations

import numpy as np

from sdrcast.errors import ConfigError
from sdrcast.mac.ts import TS_PACKET, null_packets
from sdrcast.phy.contracts import Transmitter
from sdrcast.phy.dtmb import stages
from sdrcast.phy.dtmb.config import BODY_SYMBOLS, DATA_SYMBOLS, SYMBOL_RATE, DtmbConfig
from sdrcast.phy.dtmb.shaping import shaper
from sdrcast.phy.fec import BchCode, LdpcCode
from sdrcast.phy.interleave import ConvolutionalInterleaver


class DtmbTransmitter(Transmitter):
    """Stateful (time interleaver, frame counter within the superframe) DTMB modulator.

    The transmitter contract (``phy.contracts``): ``push(ts)`` streams, ``flush()`` ends, and
    ``modulate(ts)`` does both. TS comes in whole packets; input that does not fill the last
    group of frames (``cfg.frames_per_group`` frames, 2 for 32QAM and 4QAM-NR) is completed
    with null packets, counted in ``null_packets_added``. The time interleaver delays symbols
    by up to ``latency_frames`` frames: ``flush()`` sends that many frames of null packets so
    that every input packet is on air (``flush_packets_added``). LDPC encoding is spread over
    ``workers`` threads. The time interleaver starts from zero state with symbol 0 on branch 0,
    so the first ``52*51*M`` symbols out carry zeros, as in any DTMB exciter start-up.
    """

    def __init__(self, cfg: DtmbConfig | None = None, workers: int = 2):
        self.cfg = cfg = cfg or DtmbConfig()
        self.sample_rate = cfg.sample_rate
        # SRRC shaping to the output rate, or the 7.56 Msps symbols as they are
        self.shaper = shaper(cfg.sample_rate) if cfg.sample_rate != SYMBOL_RATE else None
        self.workers = workers
        self.bch = BchCode.dtmb()
        self.ldpc = LdpcCode.dtmb(cfg.ldpc_rate)
        nr = cfg.constellation == "4QAM-NR"
        # 4QAM-NR: the interleaver runs on the NR-coded bits before 4QAM mapping (dtmb-sdr S2)
        self.interleaver = ConvolutionalInterleaver(52, cfg.interleaver_unit,
                                                    np.uint8 if nr else np.complex64)
        self.frame = 0
        self.null_packets_added = 0
        self.flush_packets_added = 0

    @property
    def nominal_power(self) -> float:
        """Mean power of the output (frame header and body; SRRC shaping keeps it), for
        setting the output level."""
        cfg = self.cfg
        header = np.mean(np.abs(stages.header(cfg, 0)) ** 2)
        points = stages.tables.constellation_points(
            "4QAM" if cfg.constellation == "4QAM-NR" else cfg.constellation)
        body = np.mean(np.abs(points) ** 2)
        return float((cfg.header_symbols * header + BODY_SYMBOLS * body) / cfg.frame_symbols)

    @property
    def bytes_per_group(self) -> int:
        return self.cfg.ts_bytes_per_frame * self.cfg.frames_per_group

    def _pad(self, ts: np.ndarray) -> np.ndarray:
        if ts.size % TS_PACKET:
            raise ConfigError(f"TS input of {ts.size} bytes is not a whole number of 188-byte "
                              "packets")
        short = -ts.size % self.bytes_per_group
        if short:
            n = short // TS_PACKET
            self.null_packets_added += n
            ts = np.concatenate([ts, null_packets(n)])
        return ts

    def stages(self, ts: bytes | np.ndarray) -> dict[str, np.ndarray]:
        """Run every stage on whole frames; returns each stage's output (for tests/inspection):
        scrambled, bch, ldpc, mapped, interleaved, body_logical, body, framed."""
        fec = self.encode(ts)
        return {**fec, **self.modulate_codewords(fec["ldpc"])}

    def encode(self, ts: bytes | np.ndarray) -> dict[str, np.ndarray]:
        """The FEC half (stateless but for the padding count, so it may run ahead on another
        thread): TS, completed to whole groups -> scrambled, bch, ldpc bits."""
        cfg = self.cfg
        ts = self._pad(np.frombuffer(bytes(ts), np.uint8) if isinstance(ts, bytes | bytearray)
                       else np.asarray(ts, np.uint8))
        n_frames = ts.size // cfg.ts_bytes_per_frame
        frames = np.unpackbits(ts.reshape(n_frames, cfg.ts_bytes_per_frame), axis=1)
        scrambled = np.concatenate([stages.scramble_frame(f) for f in frames])
        bch = self.bch.encode(scrambled.reshape(-1, 752)).reshape(-1)
        ldpc = self.ldpc.encode(bch.reshape(-1, self.ldpc.k), self.workers).reshape(-1)
        return {"scrambled": scrambled, "bch": bch, "ldpc": ldpc}

    def modulate_codewords(self, ldpc: np.ndarray) -> dict[str, np.ndarray]:
        """The modulation half (stateful: time interleaver, superframe position): LDPC bits of
        whole frames -> mapped, interleaved, body_logical, body, framed (7.56 Msps)."""
        cfg = self.cfg
        n_frames = ldpc.size // cfg.ldpc_bits_per_frame
        if cfg.constellation == "4QAM-NR":
            words = stages.tables.nr_words()[np.packbits(ldpc.reshape(-1, 8), axis=1)[:, 0]]
            inter_bits = self.interleaver(words.reshape(-1))
            mapped = stages.map_symbols(cfg, ldpc)
            interleaved = stages.map_symbols_4qam(inter_bits)
        else:
            mapped = stages.map_symbols(cfg, ldpc)
            interleaved = self.interleaver(mapped)
        logical = np.empty((n_frames, BODY_SYMBOLS), np.complex64)
        logical[:, :36] = stages.si_symbols(cfg)
        logical[:, 36:] = interleaved.reshape(n_frames, DATA_SYMBOLS)
        body = stages.frame_body(cfg, logical)
        sf = stages.frames_per_superframe(cfg)
        framed = np.empty((n_frames, cfg.frame_symbols), np.complex64)
        for i in range(n_frames):
            framed[i, :cfg.header_symbols] = stages.header(cfg, (self.frame + i) % sf)
        framed[:, cfg.header_symbols:] = body
        self.frame = (self.frame + n_frames) % sf
        return {"mapped": mapped, "interleaved": interleaved, "body_logical": logical,
                "body": body, "framed": framed.reshape(-1)}

    def baseband(self, ldpc: np.ndarray) -> np.ndarray:
        """The modulation half to the output rate: LDPC bits of whole frames -> complex64
        baseband at ``cfg.sample_rate`` (SRRC-shaped unless 7.56 Msps)."""
        framed = self.modulate_codewords(ldpc)["framed"]
        return framed if self.shaper is None else self.shaper(framed)

    def flush(self) -> np.ndarray:
        """End of input: null packets through the time interleaver until every input symbol
        has left it (``latency_frames`` frames, whole FEC groups)."""
        return self.push(self.flush_packets())

    def flush_packets(self) -> np.ndarray:
        """The null packets ``flush`` sends (counted in ``flush_packets_added``), for a caller
        that modulates them itself."""
        group = self.cfg.frames_per_group
        frames = -(-stages.latency_frames(self.cfg) // group) * group
        n = frames * self.cfg.ts_bytes_per_frame // TS_PACKET
        self.flush_packets_added += n
        return null_packets(n)

    def push(self, ts: bytes | np.ndarray) -> np.ndarray:
        """TS packets -> complex64 baseband at ``cfg.sample_rate`` (7.56 Msps: the symbols,
        header + body per frame; other rates: SRRC-shaped, delayed by the filter), streaming:
        the interleaver keeps its content for the next call (``flush`` sends it)."""
        return self.baseband(self.encode(ts)["ldpc"])
