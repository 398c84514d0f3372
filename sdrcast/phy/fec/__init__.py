"""Channel-code objects built once from the standards' tables: LDPC, BCH and the CRC outer code."""
from sdrcast.phy.fec.bch import BchCode
from sdrcast.phy.fec.crc_outer import CrcCode
from sdrcast.phy.fec.ldpc import LdpcCode, LdpcReport

__all__ = ["BchCode", "CrcCode", "LdpcCode", "LdpcReport"]
