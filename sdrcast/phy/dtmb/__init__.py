"""DTMB (GB 20600-2006) physical layer: configuration, transmitter, receiver."""
from sdrcast.phy.dtmb.config import PRESETS, DtmbConfig
from sdrcast.phy.dtmb.receiver import DtmbReceiver
from sdrcast.phy.dtmb.transmitter import DtmbTransmitter

__all__ = ["PRESETS", "DtmbConfig", "DtmbReceiver", "DtmbTransmitter"]
