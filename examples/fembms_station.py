"""A 5G Broadcast (FeMBMS) station and a receiver on the air: generated UDP traffic -> FeMBMS
TX -> radio ... radio -> FeMBMS RX (no configuration) -> the IP packets in a pcap file.

Without hardware both radios are the sdrcast_loopback SoapySDR device (its TX feeds its RX;
set SOAPY_SDR_PLUGIN_PATH=$PWD/build/loopback). With hardware, give a transmitter and a
receiver (and a frequency you may use), e.g. a HackRF and a USRP:

    .venv/bin/python examples/fembms_station.py --seconds 5
    .venv/bin/python examples/fembms_station.py --tx-radio soapy:driver=hackrf \\
        --rx-radio soapy:driver=uhd --freq 626e6 --seconds 30
"""
import argparse
import time

from sdrcast.flowgraphs.common import PacketOutput
from sdrcast.flowgraphs.fembms_rx import FembmsRxSink
from sdrcast.flowgraphs.fembms_tx import FembmsTxBlock, GeneratedTraffic
from sdrcast.phy.fembms.config import FembmsConfig
from sdrcast.runtime import Flowgraph
from sdrcast.sdr_io import open_sink, open_source

LOOPBACK = "soapy:driver=sdrcast_loopback,loop=fembms_station"
ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("--preset", default="5mhz_1k25_mcs9", help="FeMBMS preset")
ap.add_argument("--tx-radio", default=LOOPBACK, help="transmitting radio (soapy:ARGS)")
ap.add_argument("--rx-radio", default=LOOPBACK, help="receiving radio (soapy:ARGS)")
ap.add_argument("--freq", type=float, default=626e6, help="centre frequency (Hz)")
ap.add_argument("--seconds", type=float, default=5.0, help="seconds on the air")
ap.add_argument("--pcap", default="received.pcap", help="where the received IP packets go")
args = ap.parse_args()
cfg = FembmsConfig.preset(args.preset)

# the receiver: radio -> FembmsRxSink -> pcap, in its own flowgraph (thread) until the station
# has been received whole
output = PacketOutput(args.pcap)
rx = FembmsRxSink(cfg.rate, output)
receiving = Flowgraph().connect(open_source(args.rx_radio, sample_rate=cfg.rate, freq=args.freq), rx)
receiving.start()

# the station: 80 % of the PMCH's capacity in generated UDP packets -> FembmsTxBlock -> radio
tx = FembmsTxBlock(cfg, level_dbfs=-15.0)
traffic = GeneratedTraffic(cfg.sessions[0].lcid, 0.8 * 8 * 1000 * tx.tx.scheduler.tbs[0], args.seconds)
Flowgraph(status_interval=1.0).connect(traffic, tx, open_sink(args.tx_radio, sample_rate=cfg.rate,
                                                             freq=args.freq, gain=10)).run()

sent = tx.tx.tti * round(cfg.rate / 1000)  # samples on the air: whole 1 ms subframes
deadline = time.monotonic() + 30  # a receiver that died reports it at wait()
while rx.rx.counters["samples_in"] < sent and time.monotonic() < deadline:
    time.sleep(0.05)
receiving.stop()
receiving.wait()
rx.finish()  # the packets of the last block (a stopped flowgraph does not flush its sinks)
output.close()
r = rx.rx.report()
print(f"on the air: PCI {r['pci']}, {r['numerology']} kHz, MCH {r['fec']['mch']}, MER {r['mer_db']} dB; "
      f"{rx.packets} of {traffic.count} IP packets received into {args.pcap}")
