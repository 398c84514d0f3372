"""Physical layer: pure kernels, shared FEC/mapping machinery and per-standard stages."""
