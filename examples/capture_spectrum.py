"""Capture from a radio to a SigMF recording with a live spectrum: the samples go to
NAME.sigmf-data/.sigmf-meta (rate, centre frequency, time) and every second the spectrum of
the last samples (dBFS per resolution bandwidth, 99 % occupied bandwidth marked) is drawn
into spectrum.png (open it in an image viewer that reloads, or give --show for a window).

    .venv/bin/python examples/capture_spectrum.py --radio soapy:driver=rtlsdr --rate 2.4e6 \\
        --freq 626e6 --seconds 10 --out capture.sigmf-data

Without a radio, the sdrcast_loopback device records what another process transmits into it
(e.g. ``sdrcast tx fembms ... --output soapy:driver=sdrcast_loopback,loop=capture``).
"""
import argparse
import time

from sdrcast.analysis import plots
from sdrcast.runtime import Block, Flowgraph, Head
from sdrcast.sdr_io import open_sink, open_source

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("--radio", default="soapy:driver=sdrcast_loopback,loop=capture", help="soapy:ARGS")
ap.add_argument("--rate", type=float, default=7.68e6, help="sample rate (Hz)")
ap.add_argument("--freq", type=float, default=626e6, help="centre frequency (Hz)")
ap.add_argument("--gain", default="20", help="dB, or NAME=dB,...")
ap.add_argument("--seconds", type=float, default=10.0, help="how long to record")
ap.add_argument("--out", default="capture.sigmf-data", help="SigMF recording")
ap.add_argument("--show", action="store_true", help="a window instead of spectrum.png")
args = ap.parse_args()


class SpectrumTap(Block):
    """Passes the samples on unchanged; once a second draws the spectrum of the newest ones."""

    def __init__(self):
        super().__init__("spectrum", args.rate)
        self.drawn = 0.0

    def process(self, chunks):
        for c in chunks:
            if time.monotonic() - self.drawn >= 1.0 and len(c) >= 4096:
                self.drawn = time.monotonic()
                plots.spectrum(c.data, args.rate, "spectrum.png", center_freq=args.freq, title="live")
                if args.show:
                    import matplotlib.image
                    import matplotlib.pyplot as plt
                    plt.imshow(matplotlib.image.imread("spectrum.png"))
                    plt.axis("off")
                    plt.pause(0.01)
            yield c


radio = open_source(args.radio, sample_rate=args.rate, freq=args.freq, gain=args.gain)
recording = open_sink(args.out, sample_rate=args.rate, freq=args.freq)
Flowgraph(status_interval=1.0).connect(radio, Head(round(args.seconds * args.rate)), SpectrumTap(),
                                       recording).run()
print(f"{args.out}: {args.seconds:g} s at {args.rate / 1e6:g} Msps around {args.freq / 1e6:g} MHz; "
      "spectrum.png")
