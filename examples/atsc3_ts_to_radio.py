"""ATSC 3.0 transmitter on a radio: an MPEG-TS file (or udp:// stream) into the first PLP of a
station configuration -> ATSC 3.0 frames (bootstrap, L1, LDPC, time interleaving, OFDM) ->
a SoapySDR radio, at -15 dBFS RMS, with the status line.

    .venv/bin/python examples/atsc3_ts_to_radio.py --ts programme.ts --repeat \\
        --radio soapy:driver=hackrf --freq 593e6 --gain 30
    .venv/bin/python examples/atsc3_ts_to_radio.py --config station.toml --ts udp://@239.1.1.1:5000 ...

A udp:// input runs live: frames leave by the clock, the TS paced to the PLP's payload rate
(null packets stuffed when the input is slower, the oldest dropped beyond a second, counted).
Without a radio, the sdrcast_loopback device takes the samples for a receiver in another
process (``sdrcast convert soapy:driver=sdrcast_loopback,loop=atsc3 capture.cf32 ...``).
"""
import argparse

from sdrcast.flowgraphs.atsc3_tx import Atsc3TxBlock
from sdrcast.mac.ts_rate import TsRateAdapter
from sdrcast.phy.atsc3 import Atsc3Config
from sdrcast.runtime import Flowgraph, Label
from sdrcast.sdr_io import open_sink, open_source

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("--ts", required=True, help="TS file, - or udp://[@]host:port")
ap.add_argument("--preset", default="mobile_fixed_tdm", help="a packaged station configuration")
ap.add_argument("--config", help="or a TOML/JSON configuration (docs/atsc3.md)")
ap.add_argument("--radio", default="soapy:driver=sdrcast_loopback,loop=atsc3", help="soapy:ARGS")
ap.add_argument("--freq", type=float, default=593e6, help="centre frequency (Hz)")
ap.add_argument("--gain", default="30", help="dB, or NAME=dB,...")
ap.add_argument("--repeat", action="store_true", help="loop the TS file")
args = ap.parse_args()

cfg = Atsc3Config.load(args.config) if args.config else Atsc3Config.preset(args.preset)
plp = cfg.subframes[0].plps[0].plp_id  # the TS goes into the first PLP; the others carry padding
live = args.ts.startswith("udp://")
tx = Atsc3TxBlock(cfg, [plp], live, level_dbfs=-15.0)
chain = [open_source(args.ts, kind="ts", repeat=args.repeat)]
if live:
    chain.append(TsRateAdapter(tx.tx.payload_bitrates()[plp]))
radio = open_sink(args.radio, sample_rate=cfg.sample_rate, freq=args.freq, gain=args.gain)
Flowgraph(status_interval=1.0).connect(*chain, Label("plp_id", plp), tx, radio).run()
print(f"ATSC 3.0 at {cfg.sample_rate / 1e6:g} Msps on {args.radio}: {tx.tx.frames} frames")
