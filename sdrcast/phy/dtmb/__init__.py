"""DTMB (GB 20600-2006) physical layer."""
