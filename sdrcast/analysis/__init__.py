"""Measurements (BER, FER, MER, EVM, SNR, spectrum figures) and PNG plots."""
