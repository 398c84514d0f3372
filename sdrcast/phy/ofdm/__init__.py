"""OFDM shared by every standard: the modem (``modem``: unitary transforms over a batch of
symbols, centred or DC-first bins, any cyclic-prefix pattern, per-symbol scaling) and channel
estimation from pilots (``estimation``). ATSC 3.0
(centred, variable guard intervals), the DTMB C=3780 body (DC-first, no prefix: the PN header
is the guard) and the reference link use it; LTE grids (FeMBMS) will too."""
