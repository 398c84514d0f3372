"""sdrcast and GNU Radio in one chain over ZeroMQ: sdrcast's FeMBMS transmitter -> a GNU Radio
flowgraph (a frequency offset from a rotator, noise from a noise source) -> sdrcast's FeMBMS
receiver. Run it with GNU Radio's Python (Debian's python3), not the venv's:

    /usr/bin/python3 examples/gnuradio_channel.py --seconds 3 --snr 15 --cfo 2000

ZeroMQ sinks bind and sources connect, in GNU Radio and in sdrcast alike: sdrcast's PUSH binds
the first port and GNU Radio's pull_source connects to it; GNU Radio's push_sink binds the
second and sdrcast's PULL connects:

    sdrcast tx fembms ... --output zmq+push://127.0.0.1:5701
    sdrcast rx fembms --input zmq+pull://127.0.0.1:5702 --rate 7.68e6 --output rx.pcap

Put any GNU Radio blocks in the middle (channels.channel_model, a QT frequency sink, a file sink).
"""
import argparse
import math
import os
import subprocess
import sys
from pathlib import Path

from gnuradio import analog, blocks, gr, zeromq

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("--sdrcast", default=str(Path(__file__).resolve().parents[1] / ".venv" / "bin" / "sdrcast"),
                help="the sdrcast command (in the project's venv)")
ap.add_argument("--seconds", type=float, default=3.0, help="seconds of generated traffic")
ap.add_argument("--snr", type=float, default=15.0, help="dB, against the signal's power")
ap.add_argument("--cfo", type=float, default=2000.0, help="carrier offset (Hz)")
ap.add_argument("--ports", default="5701,5702", help="TX -> GNU Radio, GNU Radio -> RX")
ap.add_argument("--pcap", default="gnuradio_rx.pcap", help="where the received IP packets go")
args = ap.parse_args()
rate = 7.68e6  # the 5 MHz preset's sample rate
port_in, port_out = args.ports.split(",")

# GNU Radio: pull_source -> rotator (carrier offset) -> + noise -> push_sink. sdrcast writes
# -15 dBFS RMS, so the signal's power is 10^-1.5 and the noise amplitude follows from the SNR.
tb = gr.top_block()
src = zeromq.pull_source(gr.sizeof_gr_complex, 1, f"tcp://127.0.0.1:{port_in}", 100, False, -1)
offset = blocks.rotator_cc(2 * math.pi * args.cfo / rate)
noise = analog.noise_source_c(analog.GR_GAUSSIAN, math.sqrt(10 ** -1.5 / 10 ** (args.snr / 10)), 1)
add = blocks.add_cc()
snk = zeromq.push_sink(gr.sizeof_gr_complex, 1, f"tcp://127.0.0.1:{port_out}", 100, False, -1)
tb.connect(src, offset, (add, 0))
tb.connect(noise, (add, 1))
tb.connect(add, snk)
tb.start()

# sdrcast: the receiver first (it ends 15 s after the samples stop: the transmitter takes a few
# seconds to start), then the transmitter
rx = subprocess.Popen([args.sdrcast, "rx", "fembms", "--input", f"zmq+pull://127.0.0.1:{port_out}",
                       "--rate", str(rate), "--output", args.pcap, "--timeout", "15"],
                      stderr=subprocess.PIPE, text=True)
tx = subprocess.run([args.sdrcast, "tx", "fembms", "--preset", "5mhz_1k25_mcs9", "--input", "gen",
                     "--duration", str(args.seconds), "--quiet",
                     "--output", f"zmq+push://127.0.0.1:{port_in}"], capture_output=True, text=True)
print(tx.stderr.strip().splitlines()[-1])  # what the transmitter sent
_, err = rx.communicate(timeout=300)
print("\n".join(line for line in err.splitlines() if line.startswith("FeMBMS")))  # what came back
sys.stdout.flush()
os._exit(rx.returncode)  # a running ZeroMQ source can hold tb.stop() for tens of seconds
