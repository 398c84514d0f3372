"""Ready-made chains: each module is runnable (``python -m sdrcast.flowgraphs.NAME --help``)."""
