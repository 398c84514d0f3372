"""LTE-based 5G Broadcast (FeMBMS, 3GPP Rel-14..17) physical layer: numerologies, reference
and synchronisation signals, PBCH, PMCH, cell-acquisition and MBSFN subframes."""
