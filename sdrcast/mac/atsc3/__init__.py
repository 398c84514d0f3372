"""ATSC 3.0 link layer (A/330 ALP) and baseband packets (A/322 5.2)."""
