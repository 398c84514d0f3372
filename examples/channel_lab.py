"""Channel-emulator lab: a FeMBMS (5G Broadcast) carrier through a mobile channel, received
with no configuration, the error rates printed for every second of signal.

    generated UDP packets -> FeMBMS TX -> TU-6 at SPEED km/h + noise -> FeMBMS RX -> counters

Change the preset, the speed, the SNR or the channel profile (tu6 ra6 epa eva etu ...) and run:

    .venv/bin/python examples/channel_lab.py --speed 120 --snr 20 --seconds 5
"""
import argparse

from sdrcast.channel.emulator import ChannelConfig, ChannelEmulator
from sdrcast.flowgraphs.fembms_rx import FembmsRxSink
from sdrcast.flowgraphs.fembms_tx import FembmsTxBlock, GeneratedTraffic
from sdrcast.phy.fembms.config import FembmsConfig
from sdrcast.runtime import Flowgraph

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("--preset", default="5mhz_1k25_mcs9", help="FeMBMS preset")
ap.add_argument("--profile", default="tu6", help="channel profile")
ap.add_argument("--speed", type=float, default=120.0, help="km/h")
ap.add_argument("--carrier", type=float, default=626e6, help="carrier frequency (Hz), for the Doppler")
ap.add_argument("--snr", type=float, default=20.0, help="SNR in the occupied band (dB)")
ap.add_argument("--seconds", type=float, default=5.0, help="seconds of signal")
args = ap.parse_args()
cfg = FembmsConfig.preset(args.preset)


class Discard:
    """Where the received IP packets go: nowhere, this lab only counts them."""

    def write(self, packets):
        pass


class ErrorRates(FembmsRxSink):
    """The receiver as a flowgraph sink, printing what it counted after each second of signal."""

    def consume(self, chunk):
        super().consume(chunk)
        seconds = self.rx.counters["samples_in"] // round(cfg.rate)
        if seconds > getattr(self, "shown", 0):
            self.shown = seconds
            r = self.rx.report()
            mch = r["fec"]["mch"]
            print(f"{seconds:3d} s  {r['sync_state']:9s} MCH BLER {mch['bler'] or 0:.4f} "
                  f"({mch['errors']}/{mch['blocks']})  MER {r['mer_db']} dB  IP packets {self.packets}")


tx = FembmsTxBlock(cfg)
traffic = GeneratedTraffic(cfg.sessions[0].lcid, 0.8 * 8 * 1000 * tx.tx.scheduler.tbs[0], args.seconds)
channel = ChannelEmulator(ChannelConfig(sample_rate=cfg.rate, snr_db=args.snr, profile=args.profile,
                                        speed_kmh=args.speed, carrier_hz=args.carrier,
                                        bandwidth=cfg.n_rb * 180e3, seed=1))
rx = ErrorRates(cfg.rate, Discard())
Flowgraph().connect(traffic, tx, channel.block(), rx).run()
print(f"{rx.packets} of {traffic.count} IP packets received; MCH {rx.rx.report()['fec']['mch']}")
