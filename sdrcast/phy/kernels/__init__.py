"""Pure numba kernels (numpy in, numpy out; no classes, I/O or state beyond arguments).

``ofdm`` and ``filters`` wrap scipy's FFT and filter design, which numba cannot compile; they keep
the same pure-function contract.
"""
