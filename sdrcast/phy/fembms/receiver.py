"""The FeMBMS receiver: from IQ with no configuration to the IP packets of every MTCH, streaming.

``push(iq)`` takes samples as they come and returns the IP packets completed; memory stays
bounded (the samples of about two 40 ms blocks). Stages:

1. Cell search (``acquisition.search``) on 45 ms of input: PCI, cyclic prefix, a CAS start,
   the carrier offset to within a few hundred Hz (searched over +-50 kHz). Input searched in
   vain is dropped and counted.
2. Then block by block, 40 ms from each CAS, turned back by the carrier offset (phase
   continuous): the PSS found again within a few samples of where it should be (the sample
   clock drifts), the CAS equalised from its CRS -> PBCH (four segments tried) -> MIB-MBMS
   (bandwidth, SFN); until read, PCFICH -> PDCCH -> DCI 1A with SI-RNTI -> SIB1-MBMS with
   SIB13 (pycrate) -> MBSFN area, numerology, MCCH schedule, signalling MCS.
3. The block's 39 MBSFN subframes: the residual offset from their cyclic prefixes (it corrects
   this block and the next), one transform, the channel from the MBSFN RS joined across the
   subframes and Wiener-filtered; the MCCH occasions first (signalling MCS), then every PMCH on
   the pool at the MCCH's data MCS (the signalling MCS where the CRC says so); in order: MAC,
   MCCH, MSI, RLC UM per LCID (restarting each scheduling period) -> IP packets.
4. Three blocks in a row without the PSS: the cell is lost (counted with the samples it
   covered) and searched for again.
"""
from __future__ import annotations

import numpy as np

from sdrcast.errors import ConfigError, ParseError, SyncLost
from sdrcast.mac.fembms import mch, rrc
from sdrcast.mac.fembms.rlc import RlcUmRx
from sdrcast.phy.contracts import Receiver, ReceiverReport, SyncStateMachine, finite_samples
from sdrcast.phy.fembms import control, pbch, signals
from sdrcast.phy.fembms.acquisition import Cell, decimate, pss_time, search
from sdrcast.phy.fembms.numerology import numerology
from sdrcast.phy.fembms.pdsch import SiPdsch, dci_1a, parse_dci_1a
from sdrcast.phy.fembms.pmch import RS_LATTICE, RS_REVISIT, Pmch
from sdrcast.phy.fembms.tables import constellation
from sdrcast.phy.kernels.mix import mix
from sdrcast.phy.ofdm.estimation import delay_profile, equalise
from sdrcast.phy.parallel import submit
from sdrcast.phy.sample_buffer import SampleBuffer
from sdrcast.phy.sync import normalised_xcorr

LOST_AFTER = 3  # blocks in a row without the PSS
MAX_WAITING = 2  # blocks kept until an SFN and the SI are known
TRACK = 24  # samples at 1.92 Msps the PSS is looked for around where it should be
SLEW = 4  # samples at 1.92 Msps the timing follows per 40 ms block: 50 ppm of clock drift


class FembmsReceiver(Receiver):
    """``FembmsReceiver(sample_rate)``: ``push(iq) -> ip_packets``, ``flush()``, ``report()``;
    ``demodulate(iq) -> (ip_packets, report)``."""

    standard = "fembms"
    no_signal = "no FeMBMS cell found"

    def __init__(self, sample_rate: float, iterations: int = 6):
        if not (sample_rate > 0 and abs(sample_rate / 1.92e6 - round(sample_rate / 1.92e6)) < 1e-6):
            raise ConfigError(f"sample_rate={sample_rate!r}: FeMBMS is received at a multiple of 1.92 Msps "
                              "(1.92e6, 3.84e6, 7.68e6, 15.36e6, 23.04e6, 30.72e6)")
        self.rate, self.iterations = sample_rate, iterations
        self.per = round(sample_rate / 1000)
        self.block = 40 * self.per
        self.buf = SampleBuffer()
        self.state = SyncStateMachine()
        self.cell: Cell | None = None
        self.cas_at = 0  # absolute index of the next CAS
        self.search_from = 0  # absolute index where the next cell search starts
        self.cfo = 0.0
        self.sfn: int | None = None  # SFN of the next CAS
        self.misses = 0
        self.n_rb: int | None = None
        self.area: dict | None = None
        self.sib: bytes | None = None
        self.pmchs: list[rrc.PmchInfo] | None = None  # what the MCCH says of each PMCH
        self.period: int | None = None
        self.mcch: bytes | None = None
        self.rlc: dict[int, RlcUmRx] = {}
        self.waiting: list[np.ndarray] = []
        self.in_flight: tuple[list, list] | None = None  # one block's PMCHs on the pool
        self._last_mbsfn: tuple | None = None  # a subframe for the echo profile, made when asked
        self._last_cells: np.ndarray | None = None  # a decoded PMCH's equalised cells
        self.fec = {k: [0, 0] for k in ("cas", "sib", "mcch", "mch")}
        # running [sum, count]s, not lists: a receiver that runs for days keeps its memory
        self.iterations_run = [0, 0]  # turbo iterations, code blocks
        self.noise = [0.0, 0]  # the MBSFN subframes' noise against the channel (1 / SNR, MER)
        self.noise_cas = [0.0, 0]  # the CAS's, from its CRS
        self.drift = [0, 0]  # timing moved by tracking, samples it was measured over
        self.per_lcid: dict[int, int] = {}
        self.counters = {"samples_in": 0, "samples_searched_in_vain": 0, "acquisitions": 0,
                         "sync_losses": 0, "blocks": 0, "mtch_unknown_lcid": 0,
                         "samples_not_finite": 0, "configuration_changes": 0}

    @property
    def synced_once(self) -> bool:
        return self.counters["acquisitions"] > 0

    # streaming -------------------------------------------------------------------------
    def push(self, iq: np.ndarray) -> list[bytes]:
        iq = finite_samples(iq, self.counters)
        self.buf.append(iq)
        out: list[bytes] = []
        while True:
            if self.cell is None:
                if not self._acquire():
                    return out
            elif self.buf.end >= self.cas_at + self.block + 2 * self.per:
                out += self._block(self.block)
            else:
                return out

    def flush(self) -> list[bytes]:
        """The rest of the input: a last partial block's whole subframes."""
        if self.cell is None:
            return self._collect()
        have = self.buf.end - self.cas_at
        subframes = min(40, have // self.per)
        return (self._block(subframes * self.per) if subframes > 1 else []) + self._collect()

    # acquisition -------------------------------------------------------------------------
    def _acquire(self) -> bool:
        """Search the next 45 ms; on success start from the earliest CAS still buffered (the
        block before the one found is kept: its CAS may have been the faded one)."""
        window = round(0.045 * self.rate)
        at = max(self.search_from - self.buf.start, 0)
        if self.buf.end - self.buf.start - at < window:
            return False
        try:
            cell = search(self.buf.view[at:at + window], self.rate)
        except SyncLost:
            self.counters["samples_searched_in_vain"] += self.block
            self.search_from = self.buf.start + at + self.block
            self.buf.drop_before(self.search_from - self.block)
            return True
        self.cell, self.cfo, self.misses, self.drift = cell, cell.cfo_hz, 0, [0, 0]
        found = self.buf.start + at + cell.subframe_start
        self.cas_at = self.buf.start + (found - self.buf.start) % self.block
        self.sfn, self.area, self.n_rb, self.waiting = None, None, None, []
        self.counters["acquisitions"] += 1
        self.state.to("tracking", self.cas_at)
        return True

    def _samples(self, start: int, n: int) -> np.ndarray:
        """``n`` samples from absolute index ``start`` (zeros past the input), turned back by
        the carrier offset with the phase running on from sample 0."""
        a = start - self.buf.start
        x = self.buf.view[max(a, 0):a + n]
        if x.size < n:
            x = np.concatenate([np.zeros(max(-a, 0), np.complex64), x,
                                np.zeros(n - x.size - max(-a, 0), np.complex64)])
        return mix(x, -self.cfo * start / self.rate % 1.0, -self.cfo / self.rate)

    def _track(self) -> bool:
        """The PSS near where it should be: the CAS start moved by what the sample clock drifted;
        False when it is not there."""
        cell = self.cell
        factor = round(self.rate / 1.92e6)
        normal = cell.cp == "normal"
        n_symb = 7 if normal else 6
        cp = (9 if normal else 32) * factor  # at the input rate; normal CP: the first one longer
        pss_at = self.cas_at + (n_symb - 1) * (128 * factor + cp) + cp + (factor if normal else 0)
        x, _ = decimate(self._samples(pss_at - TRACK * factor, (128 + 2 * TRACK) * factor), self.rate)
        c = normalised_xcorr(x, pss_time(cell.pci % 3))
        k = int(np.argmax(c))
        if c[k] < 0.3:
            return False
        # the clock drifts at most SLEW a block; a bigger jump, or one on a weak peak, is
        # mostly another path of a fading channel taking the lead: followed gradually, and
        # only on a clear peak (a whole jump put one block off)
        if c[k] >= 0.5:
            step = int(np.clip(k - TRACK, -SLEW, SLEW)) * factor
            self.cas_at += step
            self.drift[0] += step
        self.drift[1] += self.block
        return True

    # one block ---------------------------------------------------------------------------
    def _block(self, length: int) -> list[bytes]:
        self.counters["blocks"] += 1
        if not self._track():
            self.misses += 1
            if self.misses >= LOST_AFTER:
                self.counters["sync_losses"] += 1
                self.state.to("lost", self.cas_at)
                self.cell = None
                self.search_from = self.cas_at
                self.buf.drop_before(self.cas_at)
                return self._collect()
        else:
            self.misses = 0
        x = self._samples(self.cas_at, length)
        cell, per = self.cell, self.per
        normal = cell.cp == "normal"
        cp_name = "15" if normal else "15e"
        self.fec["cas"][1] += 1
        mib, unit = _mib(x[:per], self.rate, cell.pci, normal, cp_name)
        self.noise_cas[0] += unit
        self.noise_cas[1] += 1
        if mib is None:
            self.fec["cas"][0] += 1
        else:
            bits, seg = mib
            self.n_rb = [6, 15, 25, 50, 75, 100][int("".join(map(str, bits[:3])), 2) % 6]
            self.sfn = (16 * int("".join(map(str, bits[3:9])), 2) + 4 * seg) % 1024
        if self.n_rb is not None and self.area is None:
            self.fec["sib"][1] += 1
            self.sib = _system_information(x[:per], self.rate, cell.pci, self.n_rb, normal, cp_name)
            self.area = _area(self.sib)
            self.fec["sib"][0] += self.area is None
        self.cas_at += self.block
        self.buf.drop_before(self.cas_at - 2 * per)
        if self.area is None or self.sfn is None or length <= per:
            # a faded first CAS: its block waits for the SFN and SI of the next ones
            self.waiting = (self.waiting + [x])[-MAX_WAITING:]
            if self.sfn is not None:
                self.sfn = (self.sfn + 4) % 1024
            return []
        packets = []
        for i, w in enumerate(self.waiting):
            packets += self._mbsfn(w[per:], (self.sfn - 4 * (len(self.waiting) - i)) % 1024, 39)
        self.waiting = []
        packets += self._mbsfn(x[per:length], self.sfn, length // per - 1)
        self.sfn = (self.sfn + 4) % 1024
        return packets

    def _mbsfn(self, x: np.ndarray, sfn: int, count: int) -> list[bytes]:
        area = self.area
        num = rrc.numerology_of(area)
        nm = numerology(num)
        n_fft, cp = nm.fft_size(self.rate), nm.prefixes(self.rate)[0]
        sym = n_fft + cp
        sub = x[:count * self.per].reshape(count, self.per)
        fine = float(np.angle(sum(np.sum(np.conj(sub[:, s:s + cp]) * sub[:, s + n_fft:s + n_fft + cp])
                                  for s in range(0, nm.symbols * sym, sym))))
        fine *= self.rate / (2 * np.pi * n_fft)
        x = mix(x, 0.0, -fine / self.rate)  # this block; and the next from its start
        self.cfo += fine
        mcfg = area["mcch-Config-r9"]
        signalling = int(mcfg["signallingMCS-r9"].removeprefix("n"))
        mcch_sfs = rrc.mcch_subframes(mcfg["sf-AllocInfo-r9"][0])
        rep = int(mcfg["mcch-RepetitionPeriod-r9"].removeprefix("rf"))
        when = [(sfn + (1 + i) // 10, (1 + i) % 10) for i in range(count)]
        occasion = [s % rep == mcfg["mcch-Offset-r9"] and sf in mcch_sfs for s, sf in when]
        grids = _mbsfn_block(x[:count * self.per], nm, num, self.n_rb, self.rate, area["mbsfn-AreaId-r9"],
                             sfn, count)
        self._last_mbsfn = (x[:self.per], nm, num, self.n_rb, self.rate, area["mbsfn-AreaId-r9"], sfn)

        def decode(i: int, tries: list[int]):
            eq, nv, unit = grids[i]
            its_all = []
            for m, table in tries:
                p = Pmch.cached(num, self.n_rb, area["mbsfn-AreaId-r9"], when[i][1], m, table)
                cells = eq.reshape(-1)[p.sub.flat_positions]
                got, ok, its = p.decode(cells, nv.reshape(-1)[p.sub.flat_positions], self.iterations)
                its_all += its
                if ok:
                    self._last_cells = cells
                    return got, its_all, unit
            return None, its_all, unit

        if self.pmchs is None:  # the MCCH first: it says each PMCH's subframes and MCS
            for i in (i for i in range(count) if occasion[i]):
                tb = decode(i, [(signalling, "64QAM")])[0]
                pmchs = _pmchs_of(_mcch_in(tb)) if tb is not None else None
                if pmchs is not None:
                    self._learn(pmchs)
                    break
        packets = self._collect()  # the previous block's, decoded while this one was equalised
        tries = [[(signalling, "64QAM")] if occasion[i] else self._tries(*when[i], signalling)
                 for i in range(count)]
        def decode_all(part: range) -> list:
            return [decode(i, tries[i]) for i in part]

        half = (count + 1) // 2  # two tasks: few thread switches
        self.in_flight = ([submit(decode_all, range(0, half)), submit(decode_all, range(half, count))], when)
        return packets

    def _learn(self, pmchs: list[rrc.PmchInfo]) -> None:
        """The PMCHs an MCCH lists: subframes, MCS, scheduling period, an RLC entity per MTCH."""
        self.pmchs = pmchs
        self.period = int(pmchs[0].scheduling_period.removeprefix("rf"))
        for p in pmchs:
            for session in p.sessions:
                self.rlc.setdefault(session.lcid, RlcUmRx())

    def _tries(self, sfn: int, sf: int, signalling: int) -> list[tuple[int, str]]:
        """The MCS to try on subframe ``sf`` of frame ``sfn``: its PMCH's (36.331: PMCH p owns
        the MCH subframes of the period after the previous one's sf-AllocEnd up to its own,
        counted without the CAS), the signalling MCS first on a PMCH's first subframe (MSI)."""
        sig = (signalling, "64QAM")
        if self.pmchs is None:
            return [sig]
        frame = sfn % self.period
        index = frame * 10 + sf - 1 - frame // 4  # the CAS (subframe 0 every 4th frame) not counted
        p = next((p for p, x in enumerate(self.pmchs) if index <= x.sf_alloc_end), len(self.pmchs) - 1)
        first = index == (self.pmchs[p - 1].sf_alloc_end + 1 if p else 0)
        data = (self.pmchs[p].data_mcs, self.pmchs[p].mcs_table)
        return [sig, data] if first else [data, sig]

    def _collect(self) -> list[bytes]:
        """The packets of the block whose PMCHs are being decoded on the pool (none: [])."""
        if self.in_flight is None:
            return []
        futures, when = self.in_flight
        self.in_flight = None
        return self._link_layer([r for f in futures for r in f.result()], when)

    def _link_layer(self, decoded, when) -> list[bytes]:
        packets = []
        for (tb, its, unit), (sfn, sf) in zip(decoded, when, strict=True):
            if self.period and sfn % self.period == 0 and sf == 1:
                for r in self.rlc.values():
                    r.reset()  # SNs restart with each MCH scheduling period
            self.fec["mch"][1] += 1
            self.iterations_run[0] += sum(its)
            self.iterations_run[1] += len(its)
            if tb is None:
                self.fec["mch"][0] += 1
                continue
            self.noise[0] += unit  # the MER over the RS
            self.noise[1] += 1
            try:
                elements = mch.unpack(tb).elements
            except ParseError:
                self.fec["mch"][0] += 1
                continue
            for lcid, body in elements:
                if lcid == mch.LCID_MCCH:
                    self.fec["mcch"][1] += 1
                    pmchs = _pmchs_of(_mcch_in(tb))
                    if pmchs is None:
                        self.fec["mcch"][0] += 1
                        continue
                    if self.pmchs is not None and pmchs != self.pmchs:  # an MCCH that says otherwise
                        self.counters["configuration_changes"] += 1
                    self.mcch = body
                    self._learn(pmchs)
                elif lcid not in self.rlc:
                    if 1 <= lcid <= mch.LCID_MTCH_MAX:  # an MTCH the MCCH read so far does not list
                        self.counters["mtch_unknown_lcid"] += 1
                else:
                    try:
                        out = self.rlc[lcid].push(body)
                    except ParseError:
                        continue
                    packets += out
                    self.per_lcid[lcid] = self.per_lcid.get(lcid, 0) + len(out)
        return packets

    # reporting ---------------------------------------------------------------------------
    def constellation(self) -> np.ndarray | None:
        """The equalised cells of the last PMCH that decoded."""
        return self._last_cells

    def channel_profile(self) -> tuple[np.ndarray, np.ndarray] | None:
        """The echo profile from the MBSFN RS of the last block's first MBSFN subframe."""
        if self._last_mbsfn is None:
            return None
        x, nm, num, n_rb, rate, area, sfn = self._last_mbsfn
        g, a = _mbsfn_grid(x, nm, num, n_rb, rate, area, sfn, 1)
        return delay_profile(g, a, nm.fft_size(rate), rate)

    def report(self) -> dict:
        cell, area = self.cell, self.area

        def mer(noise: list) -> float | None:
            total, n = noise
            return round(float(10 * np.log10(n / total)), 2) if n and total > 0 else None

        fec = {k: {"errors": v[0], "blocks": v[1], "bler": v[0] / v[1] if v[1] else None}
               for k, v in self.fec.items()}
        done, blocks = self.iterations_run
        fec["turbo_iterations_mean"] = round(done / blocks, 2) if blocks else None
        fec["fec_blocks"], fec["fec_failures"] = self.fec["mch"][1], self.fec["mch"][0]
        # the sample clock against the carrier's: the timing tracking's drift over 1 s or more
        sco = round(self.drift[0] / self.drift[1] * 1e6, 1) if self.drift[1] >= self.rate else None
        details = {"pci": cell.pci if cell else None, "cp": cell.cp if cell else None,
                   "n_rb": self.n_rb, "mbsfn_area": area["mbsfn-AreaId-r9"] if area else None,
                   "numerology": rrc.numerology_of(area) if area else None,
                   "pmchs": [{"sf_alloc_end": p.sf_alloc_end, "data_mcs": p.data_mcs,
                              "mcs_table": p.mcs_table, "lcids": [s.lcid for s in p.sessions]}
                             for p in self.pmchs or []] or None,
                   "mer_cas_db": mer(self.noise_cas),
                   "sib1_mbms": self.sib.hex() if self.sib else None,
                   "mcch": self.mcch.hex() if self.mcch else None,
                   "transitions": list(self.state.transitions), "noise_sum": list(self.noise),
                   **{k: v for k, v in self.counters.items() if k not in ("acquisitions", "sync_losses",
                                                                          "samples_in")}}
        r = ReceiverReport("fembms", self.state.state, self.counters["samples_in"],
                           self.counters["acquisitions"], self.counters["sync_losses"],
                           cfo_hz=round(self.cfo, 1) if cell else None, sco_ppm=sco,
                           snr_db=mer(self.noise), mer_db=mer(self.noise), fec=fec,
                           payload={"packets": sum(self.per_lcid.values()), "per_lcid": dict(self.per_lcid),
                                    "lost_sn": sum(r.lost for r in self.rlc.values()),
                                    "lost_sn_per_lcid": {lcid: r.lost for lcid, r in self.rlc.items()},
                                    "dropped_segments": sum(r.dropped for r in self.rlc.values())},
                           details=details)
        return r.to_dict()


def _cas_grid(x: np.ndarray, rate: float, n_rb: int, normal: bool, cp_name: str, pci: int):
    """A CAS -> (equalised grid, noise per cell, noise at unit channel gain) from its CRS."""
    nm = numerology(cp_name)
    g = nm.demodulate(x, 12 * n_rb, rate)
    cp = nm.prefixes(rate)[1]
    return equalise(g, signals.crs_grid(pci, n_rb, normal), max_gap=7 if normal else 6, spacing=3,
                    delays=(-cp / 8, cp, nm.fft_size(rate)))


def _mib(x, rate, pci, normal, cp_name):
    """(MIB-MBMS bits and segment or None, noise at unit gain over the central CRS)."""
    eq, nv, unit = _cas_grid(x, rate, 6, normal, cp_name, pci)  # the 72 central subcarriers
    ls, ks = pbch.resource_elements(pci, 6, normal)
    return pbch.decode(eq[ls, ks], nv[ls, ks], pci, normal), unit


def _system_information(x, rate, pci, n_rb, normal, cp_name) -> bytes | None:
    eq, nv, _ = _cas_grid(x, rate, n_rb, normal, cp_name, pci)
    cr = control.ControlRegion(pci, n_rb, normal, 1)
    cfi = control.decode_cfi(eq[cr.positions(cr.pcfich)], pci)
    cr = control.ControlRegion(pci, n_rb, normal, cfi)
    ls, ks = cr.positions(cr.pdcch)
    scrambling = (1 - 2.0 * control.pdcch_scrambling(pci, 2 * ls.size)).astype(np.float32)
    llr = constellation(2).demap(eq[ls, ks], nv[ls, ks]) * scrambling
    found = control.decode_dci(llr, dci_1a(n_rb, 0, 1, 0, 0).size, control.SI_RNTI)
    if found is None:
        return None
    try:
        d = parse_dci_1a(found[0], n_rb)
    except ParseError:
        return None
    si = SiPdsch(pci, n_rb, normal, cfi, d["start"], d["length"], d["mcs"], d["n_prb_1a"])
    return si.decode(eq[si.res], nv[si.res], d["rv"])


def _area(sib: bytes | None) -> dict | None:
    """The first MBSFN area SIB1-MBMS announces (its SIB13), None if it has none or does not
    decode; every field the receiver reads checked here."""
    if sib is None:
        return None
    try:
        area = rrc.parse_sib1_mbms(sib)["systemInformationBlockType13-r14"]["mbsfn-AreaInfoList-r9"][0]
        m = area["mcch-Config-r9"]
        _ = (area["mbsfn-AreaId-r9"], m["signallingMCS-r9"], m["sf-AllocInfo-r9"][0],
             m["mcch-RepetitionPeriod-r9"], m["mcch-Offset-r9"], rrc.numerology_of(area))
        return area
    except (ParseError, KeyError, IndexError, TypeError, StopIteration):
        return None


def _pmchs_of(mcch: dict | None) -> list[rrc.PmchInfo] | None:
    """The PMCHs of an MBSFNAreaConfiguration, None without any or with malformed fields."""
    try:
        return rrc.pmchs_of(mcch) if mcch is not None else None
    except ParseError:
        return None


def _mcch_in(tb: bytes) -> dict | None:
    """The MBSFNAreaConfiguration a transport block's MCCH SDU carries, if any parses."""
    try:
        for lcid, body in mch.unpack(tb).elements:
            if lcid == mch.LCID_MCCH:
                return rrc.parse_mcch(body[1:])  # past its RLC UM header
    except ParseError:
        return None
    return None


def _mbsfn_grid(x: np.ndarray, nm, num: str, n_rb: int, rate: float, area: int, sfn: int,
                count: int) -> tuple[np.ndarray, np.ndarray]:
    """The carriers of the ``count`` MBSFN subframes after a CAS (``x`` starts at subframe 1
    of frame ``sfn``) through one transform, and their MBSFN RS."""
    cp = nm.prefixes(rate)[0]
    # timing follows the strongest path; echoes before it (a faded first path) stay inside
    # the prefix when the windows start a quarter of it early (at most 10 us: the rest of a
    # long prefix is kept for the late echoes of a single-frequency network)
    g = nm.demodulate(x, nm.sc_per_rb * n_rb, rate, nm.symbols * count,
                      fft_offset=min(cp // 4, round(10e-6 * rate)))
    a = np.concatenate([Pmch.cached(num, n_rb, area, (sfn * 10 + 1 + i) % 10, 0).sub.reference_grid
                        for i in range(count)])
    return g, a


def _mbsfn_block(x: np.ndarray, nm, num: str, n_rb: int, rate: float, area: int, sfn: int,
                 count: int) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """The ``count`` MBSFN subframes after a CAS, equalised together from their MBSFN RS
    joined in time: [(grid, noise per cell, noise at unit gain)] per subframe."""
    rows = nm.symbols
    cp = nm.prefixes(rate)[0]
    g, a = _mbsfn_grid(x, nm, num, n_rb, rate, area, sfn, count)
    eq, nv, unit = equalise(g, a, max_gap=RS_REVISIT[num], spacing=RS_LATTICE[num],
                            delays=(-cp / 16, cp * 1.05, nm.fft_size(rate)))
    return [(eq[i * rows:(i + 1) * rows], nv[i * rows:(i + 1) * rows], unit) for i in range(count)]
