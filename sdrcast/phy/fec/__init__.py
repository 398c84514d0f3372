"""Channel-code objects built once from the standards' tables: LDPC and BCH."""
from sdrcast.phy.fec.bch import BchCode
from sdrcast.phy.fec.ldpc import LdpcCode, LdpcReport

__all__ = ["BchCode", "LdpcCode", "LdpcReport"]
