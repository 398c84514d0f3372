"""The standard registry: each broadcast standard says once where its parts are, and the
command line, the sweep harness and the demo iterate over it. Parts are named as
``"module:attribute"`` and imported only when used, so ``sdrcast --help`` loads no standard.

A new standard (FeMBMS next) plugs in with one ``Standard`` entry here and the modules it names
(see docs/architecture.md); entries gain fields as shared tools need them (``sdrcast identify``
and the monitoring station use ``detect``).
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Standard:
    """Where a standard's parts are. ``tx``/``rx``: flowgraph modules with ``add_arguments``
    and ``run_from_args`` (``sdrcast tx|rx NAME``); ``sweep``: ``run(params, snr_db, seed,
    frames) -> counts`` for ``sdrcast sweep NAME``; ``demo``: ``run(out, quick) -> summary``
    for ``sdrcast demo``; ``detect``: ``detect(iq, sample_rate) -> dict | None`` (what is on
    air) for ``sdrcast identify``; ``receiver``: the receiver class, built with the sample rate
    (``phy.contracts.Receiver``), for the monitoring station."""

    name: str
    tx: str | None = None
    tx_help: str = ""
    rx: str | None = None
    rx_help: str = ""
    sweep: str | None = None
    demo: str | None = None
    detect: str | None = None
    receiver: str | None = None


STANDARDS: dict[str, Standard] = {s.name: s for s in (
    Standard("dtmb",
             tx="sdrcast.flowgraphs.dtmb_tx", tx_help="DTMB (GB 20600-2006), 7.56 Msps or shaped",
             rx="sdrcast.flowgraphs.dtmb_rx", rx_help="DTMB (GB 20600-2006), streaming",
             sweep="sdrcast.analysis.links:run_dtmb", demo="sdrcast.flowgraphs.demo:run_dtmb",
             detect="sdrcast.phy.dtmb.acquisition:detect", receiver="sdrcast.phy.dtmb:DtmbReceiver"),
    Standard("atsc3",
             tx="sdrcast.flowgraphs.atsc3_tx", tx_help="ATSC 3.0 (A/321, A/322, A/330)",
             rx="sdrcast.flowgraphs.atsc3_rx", rx_help="ATSC 3.0, streaming, any sample rate",
             sweep="sdrcast.analysis.links:run_atsc3", demo="sdrcast.flowgraphs.demo:run_atsc3",
             detect="sdrcast.phy.atsc3.sync:detect", receiver="sdrcast.phy.atsc3.receiver:Atsc3Receiver"),
    Standard("fembms",
             tx="sdrcast.flowgraphs.fembms_tx",
             tx_help="LTE-based 5G Broadcast / FeMBMS (36.211-36.331 Rel-14..17), MBMS-dedicated carrier",
             rx="sdrcast.flowgraphs.fembms_rx", rx_help="FeMBMS captures: no configuration, IP out",
             sweep="sdrcast.analysis.links:run_fembms",
             demo="sdrcast.flowgraphs.demo:run_fembms", detect="sdrcast.phy.fembms.acquisition:detect",
             receiver="sdrcast.phy.fembms.receiver:FembmsReceiver"),
)}


def load(ref: str):
    """Import ``"module:attribute"`` (or a module) and return it."""
    module, _, attr = ref.partition(":")
    obj = importlib.import_module(module)
    return getattr(obj, attr) if attr else obj


def with_part(part: str) -> list[Standard]:
    """The standards that have ``part`` (``"tx"``, ``"rx"``, ``"sweep"``, ``"demo"``)."""
    return [s for s in STANDARDS.values() if getattr(s, part)]


def sweep_links() -> tuple[str, ...]:
    """The links ``sdrcast sweep`` runs: the generic reference links, then each standard's."""
    return ("reference", "reference-ldpc", *(s.name for s in with_part("sweep")))
