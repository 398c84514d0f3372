"""The RRC messages of an MBMS-dedicated carrier (3GPP TS 36.331 Rel-17, UPER, encoded and
decoded with pycrate's ``RRCLTE``): MIB-MBMS on the BCH, SIB1-MBMS with SIB13 on the BCCH, and
the MCCH's MBSFNAreaConfiguration. Decoding errors are ``ParseError``."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from sdrcast.errors import ParseError

BANDWIDTHS = {6: "n6", 15: "n15", 25: "n25", 50: "n50", 75: "n75", 100: "n100"}
SCS = {"15e": None, "7.5": "kHz7dot5", "1.25": "kHz1dot25"}  # subcarrierSpacingMBMS-r14 (absent: 15 kHz)
MCCH_SUBFRAMES = (1, 2, 3, 6, 7, 8)  # sf-AllocInfo-r9, its first (most significant) bit first, FDD
SIGNALLING_MCS = (2, 7, 13, 19)  # signallingMCS-r9 n2 .. n19


def numerology_of(area: dict) -> str:
    """The numerology of an MBSFN-AreaInfo (SIB13): "1.25", "7.5" or "15e"."""
    scs = area.get("subcarrierSpacingMBMS-r14")
    return next(name for name, value in SCS.items() if value == scs)


def mcch_subframes(bitmap: int) -> list[int]:
    """The subframes a 6-bit sf-AllocInfo-r9 names."""
    return [sf for j, sf in enumerate(MCCH_SUBFRAMES) if bitmap >> (5 - j) & 1]


@cache
def _asn1():
    from pycrate_asn1dir import RRCLTE  # 0.5 s to import: loaded when first needed

    return RRCLTE.EUTRA_RRC_Definitions


def _plmn(mcc: str, mnc: str) -> dict:
    return {"mcc": [int(c) for c in mcc], "mnc": [int(c) for c in mnc]}


def mib_mbms(n_rb: int, sfn: int, additional_non_mbsfn: int = 0) -> np.ndarray:
    """The 24 MIB-MBMS bits: dl-Bandwidth, SFN >> 4, additionalNonMBSFNSubframes."""
    m = _asn1().BCCH_BCH_Message_MBMS
    m.set_val({"message": {"dl-Bandwidth-MBMS-r14": BANDWIDTHS[n_rb],
                           "systemFrameNumber-r14": ((sfn >> 4) & 63, 6),
                           "additionalNonMBSFNSubframes-r14": additional_non_mbsfn,
                           "semiStaticCFI-MBMS-r16": 0, "spare": (0, 11)}})
    return np.unpackbits(np.frombuffer(m.to_uper(), np.uint8))[:24]


@dataclass(frozen=True)
class Session:
    """One MBMS session: TMGI (PLMN + 3-byte service id), session id, logical channel."""

    service_id: bytes
    session_id: int
    lcid: int


@dataclass(frozen=True)
class PmchInfo:
    sf_alloc_end: int
    data_mcs: int
    scheduling_period: str  # rf8 .. rf1024
    sessions: tuple[Session, ...]
    mcs_table: str = "64QAM"  # "256QAM": signalled as PMCH-Config-r12 higerOrder-r12


def sib1_mbms(*, mcc: str, mnc: str, tac: int, cell_identity: int, band: int, area_id: int,
              non_mbsfn_region: str, mcch_repetition: str, mcch_offset: int,
              mcch_modification: str, mcch_subframe: int, signalling_mcs: int,
              numerology: str) -> bytes:
    """BCCH-DL-SCH-Message-MBMS with SystemInformationBlockType1-MBMS and SIB13 (one area, its
    MCCH in subframe ``mcch_subframe`` at I_MCS ``signalling_mcs``)."""
    area = {"mbsfn-AreaId-r9": area_id, "non-MBSFNregionLength": non_mbsfn_region,
            "notificationIndicator-r9": 0,
            "mcch-Config-r9": {"mcch-RepetitionPeriod-r9": mcch_repetition,
                               "mcch-Offset-r9": mcch_offset,
                               "mcch-ModificationPeriod-r9": mcch_modification,
                               "sf-AllocInfo-r9": (1 << (5 - MCCH_SUBFRAMES.index(mcch_subframe)), 6),
                               "signallingMCS-r9": f"n{signalling_mcs}"}}
    if SCS[numerology]:
        area["subcarrierSpacingMBMS-r14"] = SCS[numerology]
    sib = {"cellAccessRelatedInfo-r14": {"plmn-IdentityList-r14": [_plmn(mcc, mnc)],
                                         "trackingAreaCode-r14": (tac, 16),
                                         "cellIdentity-r14": (cell_identity, 28)},
           "freqBandIndicator-r14": band,
           "schedulingInfoList-MBMS-r14": [{"si-Periodicity-r14": "rf16", "sib-MappingInfo-r14": []}],
           "si-WindowLength-r14": "ms20", "systemInfoValueTag-r14": 0,
           "pdsch-ConfigCommon-r14": {"referenceSignalPower": 0, "p-b": 0},
           "systemInformationBlockType13-r14": {
               "mbsfn-AreaInfoList-r9": [area],
               "notificationConfig-r9": {"notificationRepetitionCoeff-r9": "n2",
                                         "notificationOffset-r9": 0, "notificationSF-Index-r9": 1}}}
    m = _asn1().BCCH_DL_SCH_Message_MBMS
    m.set_val({"message": ("c1", ("systemInformationBlockType1-MBMS-r14", sib))})
    return m.to_uper()


def mbsfn_area_configuration(*, mcc: str, mnc: str, common_sf_alloc: int, common_sf_alloc_period: str,
                             pmchs: tuple[PmchInfo, ...], common_sf_alloc_v1430: int | None = None) -> bytes:
    """MCCH-Message with MBSFNAreaConfiguration-r9: commonSF-Alloc (one frame, the 6-bit
    bitmap; ``common_sf_alloc_v1430``: the Rel-14 2-bit extension), its period, the PMCHs.
    PMCHs from the first one on the 256QAM table on go to pmch-InfoListExt-r12 (v1250), whose
    dataMCS-r12 names the table (higerOrder-r12: 256QAM, normal-r12: 64QAM); a receiver takes
    pmch-InfoList-r9 then pmch-InfoListExt-r12 as one list."""
    plmn = ("explicitValue-r9", _plmn(mcc, mnc))
    ext = next((i for i, p in enumerate(pmchs) if p.mcs_table == "256QAM"), len(pmchs))

    def sessions(p: PmchInfo, rel: str) -> dict:
        return {f"mbms-SessionInfoList-{rel}": [
            {"tmgi-r9": {"plmn-Id-r9": plmn, "serviceId-r9": s.service_id},
             "sessionId-r9": bytes([s.session_id]), "logicalChannelIdentity-r9": s.lcid}
            for s in p.sessions]}

    cfg = {"commonSF-Alloc-r9": [{"radioframeAllocationPeriod": "n1", "radioframeAllocationOffset": 0,
                                  "subframeAllocation": ("oneFrame", (common_sf_alloc, 6))}],
           "commonSF-AllocPeriod-r9": common_sf_alloc_period,
           "pmch-InfoList-r9": [{"pmch-Config-r9": {"sf-AllocEnd-r9": p.sf_alloc_end,
                                                    "dataMCS-r9": p.data_mcs,
                                                    "mch-SchedulingPeriod-r9": p.scheduling_period},
                                 **sessions(p, "r9")} for p in pmchs[:ext]]}
    v1250: dict = {}
    if ext < len(pmchs):
        def table(p: PmchInfo) -> str:
            return "higerOrder-r12" if p.mcs_table == "256QAM" else "normal-r12"

        v1250["pmch-InfoListExt-r12"] = [
            {"pmch-Config-r12": {"sf-AllocEnd-r12": p.sf_alloc_end, "dataMCS-r12": (table(p), p.data_mcs),
                                 "mch-SchedulingPeriod-r12": p.scheduling_period},
             **sessions(p, "r12")} for p in pmchs[ext:]]
    if common_sf_alloc_v1430 is not None:
        v1250["nonCriticalExtension"] = {"commonSF-Alloc-v1430": [
            {"subframeAllocation-v1430": ("oneFrame-v1430", (common_sf_alloc_v1430, 2))}]}
    if v1250:
        cfg["nonCriticalExtension"] = {"nonCriticalExtension": v1250}
    m = _asn1().MCCH_Message
    m.set_val({"message": ("c1", ("mbsfnAreaConfiguration-r9", cfg))})
    return m.to_uper()


def _decode(obj, data: bytes, what: str) -> dict:
    try:
        obj.from_uper(bytes(data))
    except Exception as e:  # pycrate raises its own error types for malformed PER
        raise ParseError(f"{what}: not a valid UPER encoding ({type(e).__name__}: {e})") from None
    return obj.get_val()


def _choice(val: dict, path: tuple[str, ...], what: str):
    """Walk ``val["message"]`` through CHOICE alternatives named ``path``; ParseError when the
    message holds another alternative."""
    node = val.get("message") if isinstance(val, dict) else None
    for name in path:
        if not (isinstance(node, tuple) and len(node) == 2 and node[0] == name):
            raise ParseError(f"{what}: not a {'/'.join(path)} message")
        node = node[1]
    if not isinstance(node, dict):
        raise ParseError(f"{what}: empty {path[-1]}")
    return node


def parse_sib1_mbms(data: bytes) -> dict:
    val = _decode(_asn1().BCCH_DL_SCH_Message_MBMS, data, "SIB1-MBMS")
    return _choice(val, ("c1", "systemInformationBlockType1-MBMS-r14"), "SIB1-MBMS")


def parse_mcch(data: bytes) -> dict:
    val = _decode(_asn1().MCCH_Message, data, "MCCH")
    return _choice(val, ("c1", "mbsfnAreaConfiguration-r9"), "MCCH")


def pmchs_of(mcch: dict) -> list[PmchInfo]:
    """The PMCHs of a parsed MBSFNAreaConfiguration in order: pmch-InfoList-r9, then
    pmch-InfoListExt-r12 (its dataMCS-r12 naming the MCS table). ParseError when a field is
    missing or out of range."""
    try:
        listed = [(p["pmch-Config-r9"], p["mbms-SessionInfoList-r9"], "r9") for p in mcch["pmch-InfoList-r9"]]
        v1250 = mcch.get("nonCriticalExtension", {}).get("nonCriticalExtension", {})
        listed += [(p["pmch-Config-r12"], p["mbms-SessionInfoList-r12"], "r12")
                   for p in v1250.get("pmch-InfoListExt-r12", [])]
        out = []
        for c, infos, rel in listed:
            kind, mcs = c["dataMCS-r12"] if rel == "r12" else ("normal-r12", c["dataMCS-r9"])
            sessions = tuple(Session(bytes(s["tmgi-r9"]["serviceId-r9"]), s.get("sessionId-r9", b"\0")[0],
                                     int(s["logicalChannelIdentity-r9"])) for s in infos)
            out.append(PmchInfo(int(c[f"sf-AllocEnd-{rel}"]), int(mcs), str(c[f"mch-SchedulingPeriod-{rel}"]),
                                sessions, "256QAM" if kind == "higerOrder-r12" else "64QAM"))
    except (KeyError, IndexError, TypeError, AttributeError, ValueError) as e:
        raise ParseError(f"MBSFNAreaConfiguration: PMCH fields missing or malformed "
                         f"({type(e).__name__})") from None
    if not out:
        raise ParseError("MBSFNAreaConfiguration lists no PMCH")
    return out
