"""The FeMBMS receiver (first version: whole captures): from IQ with no configuration to the
IP packets of every MTCH.

1. Cell search (``acquisition.search``): PCI, cyclic prefix, a CAS start, the carrier offset
   to within a few hundred Hz; the capture is turned back by it.
2. Each CAS (every 40 ms): the channel from the CRS (``phy/ofdm/estimation``), PBCH in the
   72 central subcarriers (trying the four segments) -> MIB-MBMS: bandwidth and SFN; PCFICH ->
   CFI; PDCCH common search space -> DCI 1A with SI-RNTI; PDSCH -> SIB1-MBMS with SIB13
   (pycrate) -> the MBSFN area, numerology, MCCH schedule and signalling MCS.
3. The residual carrier offset from the cyclic prefixes of the MBSFN symbols (a fraction of
   their subcarrier spacing), then every MBSFN subframe: the channel from the MBSFN RS joined
   over consecutive subframes (the RS alternate between two subcarrier sets), PMCH decoding at
   the signalling MCS or the MCCH's data MCS (the CRC tells), MAC demultiplexing, the MCCH
   (MBSFNAreaConfiguration) -> the MTCHs, MSI, RLC UM reassembly (restarting each MCH
   scheduling period, as the transmitter does) -> IP packets.

Streaming (bounded memory, tracking, re-acquisition) is issue 13's next step: ``push`` keeps
the capture until ``flush``.
"""
from __future__ import annotations

import dataclasses
from functools import cache

import numpy as np

from sdrcast.errors import ParseError, SyncLost
from sdrcast.mac.fembms import mch, rrc
from sdrcast.mac.fembms.rlc import RlcUmRx
from sdrcast.phy.contracts import Receiver, ReceiverReport
from sdrcast.phy.fembms import control, pbch, signals
from sdrcast.phy.fembms.acquisition import search
from sdrcast.phy.fembms.numerology import numerology
from sdrcast.phy.fembms.pdsch import SiPdsch, dci_1a, parse_dci_1a
from sdrcast.phy.fembms.pmch import Pmch
from sdrcast.phy.fembms.tables import constellation
from sdrcast.phy.kernels.mix import mix
from sdrcast.phy.kernels.prbs import gold
from sdrcast.phy.ofdm.estimation import equalise
from sdrcast.phy.parallel import parallel_map

SCS_NAMES = {"kHz7dot5": "7.5", "kHz1dot25": "1.25", None: "15e"}
SIGNALLING = {"n2": 2, "n7": 7, "n13": 13, "n19": 19}
MCCH_BITS = (1, 2, 3, 6, 7, 8)  # sf-AllocInfo-r9 bit 5..0 -> subframe


class FembmsReceiver(Receiver):
    """``FembmsReceiver(sample_rate).demodulate(iq) -> (ip_packets, report)``."""

    standard = "fembms"
    no_signal = "no FeMBMS cell found"

    def __init__(self, sample_rate: float, iterations: int = 6):
        self.rate, self.iterations = sample_rate, iterations
        self.buffer: list[np.ndarray] = []
        self.samples = 0
        self._report = ReceiverReport("fembms")
        self._synced = False

    @property
    def synced_once(self) -> bool:
        return self._synced

    def push(self, iq: np.ndarray) -> list[bytes]:
        self.buffer.append(np.asarray(iq, np.complex64))
        self.samples += np.size(iq)
        self._report.samples_in = self.samples
        return []

    def flush(self) -> list[bytes]:
        iq = np.concatenate(self.buffer) if self.buffer else np.zeros(0, np.complex64)
        self.buffer = []
        try:
            packets, details = _receive(iq, self.rate, self.iterations)
        except SyncLost:
            self._report.sync_state = "lost" if self._synced else "searching"
            return []
        self._synced = True
        r = self._report
        r.sync_state, r.acquisitions, r.cfo_hz = "tracking", 1, details.pop("cfo_hz")
        r.mer_db = details.pop("mer_db")
        r.snr_db = r.mer_db
        r.fec, r.payload, r.details = details.pop("fec"), details.pop("payload"), details
        return packets

    def report(self) -> dict:
        return self._report.to_dict()


def _receive(iq: np.ndarray, rate: float, iterations: int) -> tuple[list[bytes], dict]:
    cell, window = None, round(0.045 * rate)
    for at in range(0, max(iq.size - window, 0) + 1, round(0.04 * rate)):  # a faded CAS: the next
        try:
            cell = search(iq[at:at + window], rate)
        except SyncLost:
            continue
        cell = dataclasses.replace(cell, subframe_start=cell.subframe_start + at)
        break
    if cell is None:
        raise SyncLost(f"no LTE/FeMBMS cell in {iq.size / rate:.2f} s")
    x = mix(iq, 0.0, -cell.cfo_hz / rate)
    per = round(rate / 1000)
    first = cell.subframe_start % (40 * per)  # the earliest CAS in the capture
    n_sub = (x.size - first) // per
    sub = [x[first + k * per:first + (k + 1) * per] for k in range(n_sub)]
    cp_name = "15e" if cell.cp == "extended" else "15"
    normal = cell.cp == "normal"
    fec = {"cas": [0, 0], "sib": [0, 0], "mcch": [0, 0], "mch": [0, 0], "turbo_iterations": []}
    info, sfn0, n_rb, sib_msg = None, None, None, None
    for k in range(0, n_sub, 40):  # every CAS: MIB, then SI until it is read
        fec["cas"][1] += 1
        mib = _mib(sub[k], rate, cell.pci, normal, cp_name)
        if mib is None:
            fec["cas"][0] += 1
            continue
        bits, seg = mib
        n_rb = [6, 15, 25, 50, 75, 100][int("".join(map(str, bits[:3])), 2)]
        sfn = (16 * int("".join(map(str, bits[3:9])), 2) + 4 * seg) % 1024
        if sfn0 is None:
            sfn0 = (sfn - k // 10) % 1024
        if info is None:
            fec["sib"][1] += 1
            sib_msg = _system_information(sub[k], rate, cell.pci, n_rb, normal, cp_name)
            info = _area(sib_msg)
            if info is None:
                fec["sib"][0] += 1
    if sfn0 is None:
        raise SyncLost(f"PCI {cell.pci} found, but no MIB-MBMS decoded in {n_sub // 40 + 1} CAS")
    if info is None:
        raise SyncLost(f"PCI {cell.pci}, {n_rb} RBs: no SIB1-MBMS with an MBSFN area decoded")
    area = info
    num = SCS_NAMES[area.get("subcarrierSpacingMBMS-r14")]
    mcch_cfg = area["mcch-Config-r9"]
    area_id = area["mbsfn-AreaId-r9"]
    signalling = SIGNALLING[mcch_cfg["signallingMCS-r9"]]
    mcch_sfs = [sf for j, sf in enumerate(MCCH_BITS) if mcch_cfg["sf-AllocInfo-r9"][0] >> (5 - j) & 1]
    mcch_rep = int(mcch_cfg["mcch-RepetitionPeriod-r9"].removeprefix("rf"))
    # residual carrier offset from the MBSFN symbols' prefixes
    nm = numerology(num)
    n_fft, cps = nm.fft_size(rate), nm.prefixes(rate)
    phases = []
    for k in range(n_sub):
        if k % 40:
            s = sub[k][:cps[0] + n_fft]
            phases.append(np.vdot(s[:cps[0]], s[n_fft:n_fft + cps[0]]))
    fine = float(np.angle(np.sum(phases))) * rate / (2 * np.pi * n_fft)
    x = mix(x, 0.0, -fine / rate)
    sub = [x[first + k * per:first + (k + 1) * per] for k in range(n_sub)]
    grids, mbsfn_k = _mbsfn_grids(sub, nm, num, n_rb, rate, area_id, sfn0)
    when = [((sfn0 * 10 + k) // 10 % 1024, (sfn0 * 10 + k) % 10) for k in mbsfn_k]
    occasion = [sfn % mcch_rep == mcch_cfg["mcch-Offset-r9"] and sf in mcch_sfs for sfn, sf in when]

    def decode(i: int, tries: list[int]):
        """Subframe ``i`` at each MCS of ``tries`` until its CRC holds: (TB or None, turbo
        iterations, unit-gain noise)."""
        eq, nv, unit = grids[i]
        its_all = []
        for m in tries:
            p = Pmch.cached(num, n_rb, area_id, when[i][1], m)
            got, ok, its = p.decode(eq.reshape(-1)[p.sub.flat_positions],
                                    nv.reshape(-1)[p.sub.flat_positions], iterations)
            its_all += its
            if ok:
                return got, its_all, unit
        return None, its_all, unit

    data_mcs = None  # from the first MCCH that decodes
    for i in (i for i in range(len(grids)) if occasion[i]):
        tb = decode(i, [signalling])[0]
        pmch = _pmch_of(_mcch_in(tb)) if tb is not None else None
        if pmch is not None:
            data_mcs = pmch["pmch-Config-r9"]["dataMCS-r9"]
            break
    tries = [[signalling] if occasion[i] or data_mcs is None else [data_mcs, signalling]
             for i in range(len(grids))]
    decoded = parallel_map(lambda i: decode(i, tries[i]), list(range(len(grids))), 2)
    packets, payload = [], {}
    rlc: dict[int, RlcUmRx] = {}
    period, mcch_msg, mer = None, None, []
    for (tb, its, unit), (sfn, sf) in zip(decoded, when, strict=True):
        if period and sfn % period == 0 and sf == 1:
            for r in rlc.values():
                r.reset()  # SNs restart with each MCH scheduling period
        fec["mch"][1] += 1
        fec["turbo_iterations"] += its
        if tb is None:
            fec["mch"][0] += 1
            continue
        mer.append(unit)  # noise at unit channel gain: MER over the RS
        try:
            elements = mch.unpack(tb).elements
        except ParseError:
            fec["mch"][0] += 1
            continue
        for lcid, body in elements:
            if lcid == mch.LCID_MCCH:
                fec["mcch"][1] += 1
                pmch = _pmch_of(_mcch_in(tb))
                if pmch is None:
                    fec["mcch"][0] += 1
                    continue
                mcch_msg = body
                period = int(pmch["pmch-Config-r9"]["mch-SchedulingPeriod-r9"].removeprefix("rf"))
                for s_ in pmch["mbms-SessionInfoList-r9"]:
                    rlc.setdefault(s_["logicalChannelIdentity-r9"], RlcUmRx())
            elif lcid in rlc:
                try:
                    out = rlc[lcid].push(body)
                except ParseError:
                    continue
                packets += out
                payload.setdefault(lcid, 0)
                payload[lcid] += len(out)
    details = {
        "pci": cell.pci, "cp": cell.cp, "n_rb": n_rb, "mbsfn_area": area_id, "numerology": num,
        "sfn_first": sfn0, "cfo_hz": round(cell.cfo_hz + fine, 1),
        "mer_db": round(float(10 * np.log10(1 / np.mean(mer))), 2) if mer else None,
        "sib1_mbms": sib_msg.hex() if sib_msg else None, "data_mcs": data_mcs,
        "signalling_mcs": signalling, "mcch": mcch_msg.hex() if mcch_msg else None,
        "fec": {**{k: {"errors": v[0], "blocks": v[1], "bler": v[0] / v[1] if v[1] else None}
                   for k, v in fec.items() if k != "turbo_iterations"},
                "turbo_iterations_mean": round(float(np.mean(fec["turbo_iterations"])), 2)
                if fec["turbo_iterations"] else None},
        "payload": {"packets": len(packets), "per_lcid": payload,
                    "lost_sn": sum(r.lost for r in rlc.values()),
                    "dropped_segments": sum(r.dropped for r in rlc.values())}}
    return packets, details


def _cas_grid(x: np.ndarray, rate: float, n_rb: int, normal: bool, cp_name: str, pci: int):
    """A CAS -> (equalised grid, noise per cell) from its CRS."""
    nm = numerology(cp_name)
    g = nm.demodulate(x, 12 * n_rb, rate)
    amp = np.zeros(g.shape, np.complex64)
    n_symb = 7 if normal else 6
    for slot in (0, 1):
        for l, v in ((0, 0), (n_symb - 3, 3)):
            k, val = signals.crs(pci, n_rb, slot, l, normal, v)
            amp[slot * n_symb + l, k] = val
    cp = nm.prefixes(rate)[1]
    eq, nv, _ = equalise(g, amp, max_gap=n_symb, spacing=3, delays=(-cp / 8, cp, nm.fft_size(rate)))
    return eq, nv


def _mib(x, rate, pci, normal, cp_name):
    eq, nv = _cas_grid(x, rate, 6, normal, cp_name, pci) if rate >= 1.92e6 else (None, None)
    ls, ks = pbch.resource_elements(pci, 6, normal)
    return pbch.decode(eq[ls, ks], nv[ls, ks], pci, normal)


def _system_information(x, rate, pci, n_rb, normal, cp_name) -> bytes | None:
    eq, nv = _cas_grid(x, rate, n_rb, normal, cp_name, pci)
    cr = control.ControlRegion(pci, n_rb, normal, 1)
    cfi = control.decode_cfi(eq[cr.positions(cr.pcfich)], pci)
    cr = control.ControlRegion(pci, n_rb, normal, cfi)
    ls, ks = cr.positions(cr.pdcch)
    scrambling = (1 - 2.0 * gold(pci, 2 * ls.size)).astype(np.float32)  # c_init: N_ID, slot 0
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
             m["mcch-RepetitionPeriod-r9"], m["mcch-Offset-r9"])
        return area
    except (ParseError, KeyError, IndexError, TypeError):
        return None


def _pmch_of(mcch: dict | None) -> dict | None:
    """The first PMCH of an MBSFNAreaConfiguration, None without one (fields checked)."""
    try:
        pmch = mcch["pmch-InfoList-r9"][0]
        _ = (pmch["pmch-Config-r9"]["dataMCS-r9"], pmch["pmch-Config-r9"]["mch-SchedulingPeriod-r9"],
             [s["logicalChannelIdentity-r9"] for s in pmch["mbms-SessionInfoList-r9"]])
        return pmch
    except (KeyError, IndexError, TypeError):
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


@cache
def _rs_grid(num: str, n_rb: int, area: int, sf: int) -> np.ndarray:
    """The MBSFN RS of subframe ``sf`` on its grid, zero elsewhere."""
    s = Pmch.cached(num, n_rb, area, sf, 0).sub
    a = np.zeros(s.shape, np.complex64)
    for l, k, v in s.reference:
        a[l, k] = v
    return a


def _mbsfn_grids(sub, nm, num, n_rb, rate, area_id, sfn0):
    """Every MBSFN subframe equalised: runs of subframes between two CAS estimated together
    (their MBSFN RS joined in time), numerology ``num``."""
    out, ks = [], []
    n_sub = len(sub)
    width = nm.sc_per_rb * n_rb
    for start in range(0, n_sub, 40):
        run = [k for k in range(start + 1, min(start + 40, n_sub))]
        if not run:
            continue
        rows = nm.symbols
        # the run's subframes lie back to back: one transform for all of them
        g = nm.demodulate(np.concatenate([sub[k] for k in run]), width, rate, rows * len(run))
        a = np.concatenate([_rs_grid(num, n_rb, area_id, (sfn0 * 10 + k) % 10) for k in run])
        gap = {"1.25": 2, "7.5": 6, "15e": 12}[num]  # symbols between visits of one RS carrier
        spacing = {"1.25": 3, "7.5": 2, "15e": 1}[num]
        cp = nm.prefixes(rate)[0]
        eq, nv, unit = equalise(g, a, max_gap=gap, spacing=spacing,
                                delays=(-cp / 16, cp * 1.05, nm.fft_size(rate)))
        for i, k in enumerate(run):
            out.append((eq[i * rows:(i + 1) * rows], nv[i * rows:(i + 1) * rows], unit))
            ks.append(k)
    return out, ks
