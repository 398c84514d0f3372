"""FeMBMS link layer: RLC UM for MCCH and MTCH (36.322), MCH MAC PDUs with the MSI
(36.321 6.1.3.7, 6.2.1), and the RRC messages MIB-MBMS, SIB1-MBMS (with SIB13) and the MCCH's
MBSFNAreaConfiguration (36.331), encoded with pycrate."""
