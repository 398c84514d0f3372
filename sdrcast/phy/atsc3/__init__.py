"""ATSC 3.0 physical layer (A/321 bootstrap, A/322 BICM, framing, OFDM)."""
