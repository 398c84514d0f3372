"""``make demo``'s monitoring run: a station watching two channels from the channel emulator,
an ATSC 3.0 one that degrades until its MER alarm fires and a DTMB one, each carrying a
program stream; it leaves the SQLite history, the SigMF alarm recording and a screenshot of
the web page (headless Chromium, when installed) in the output folder."""
from __future__ import annotations

import shutil
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from sdrcast.channel.emulator import ChannelConfig as Channel
from sdrcast.channel.emulator import ChannelEmulator
from sdrcast.mac.ts.mux import ProgramMux
from sdrcast.monitor.config import AlarmRule, ChannelConfig, StationConfig
from sdrcast.monitor.station import Station
from sdrcast.sdr_io.files import write_samples


def _signals(out: Path, quick: bool) -> list[ChannelConfig]:
    from sdrcast.phy.atsc3 import Atsc3Config, Atsc3Transmitter
    from sdrcast.phy.dtmb import PRESETS, DtmbTransmitter

    cfg = Atsc3Config.preset("vector_s05")
    tx = Atsc3Transmitter(cfg)
    seconds = 4.0 if quick else 6.0
    iq = tx.modulate(ProgramMux(tx.payload_bitrates()[0]).seconds(seconds))
    rate = cfg.sample_rate
    # TU-6 at 30 km/h, the SNR falling from 30 dB to 16 dB over the middle third
    fading = ChannelEmulator(Channel(sample_rate=rate, snr_db=None, profile="tu6", speed_kmh=30.0,
                                     carrier_hz=593e6, seed=3))(iq)
    snr = np.interp(np.arange(iq.size), [0, iq.size // 3, 2 * iq.size // 3], [30.0, 30.0, 16.0])
    noise = np.random.default_rng(4).standard_normal(2 * iq.size).view(np.complex128)
    y = fading + noise * np.sqrt(np.mean(np.abs(fading) ** 2) / 2 * 10 ** (-snr / 10))
    write_samples(out / "monitor_atsc3.sigmf-data", (0.2 * y).astype(np.complex64), rate, 593e6)
    d = PRESETS["mode2"]
    dt = DtmbTransmitter(d).modulate(ProgramMux(d.payload_bitrate, seed=1).seconds(1.5 if quick else 2.5))
    dy = ChannelEmulator(Channel(sample_rate=7.56e6, snr_db=25.0, cfo_hz=5e3, seed=5))(dt)
    write_samples(out / "monitor_dtmb.sigmf-data", (0.2 * dy).astype(np.complex64), 7.56e6, 586e6)
    return [ChannelConfig("atsc3-593", str(out / "monitor_atsc3.sigmf-data"), realtime=False, freq=593e6,
                          calibration_dbm=-30.0),
            ChannelConfig("dtmb-586", str(out / "monitor_dtmb.sigmf-data"), realtime=False, freq=586e6)]


def headless_chromium(width: int = 1300, height: int = 1800):
    """Debian's Chromium (``chromium``, ``chromium-driver``), headless, driven by Selenium;
    None when they are not installed (nothing is downloaded)."""
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver):
        return None
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    o = webdriver.ChromeOptions()
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync"):
        o.add_argument(a)
    o.binary_location = chromium
    d = webdriver.Chrome(service=Service(driver), options=o)
    d.set_window_size(width, height)
    return d


def screenshot(url: str, path: Path) -> bool:
    """The page at ``url`` as a PNG through Debian's headless Chromium (False without it)."""
    d = headless_chromium()
    if d is None:
        return False
    try:
        d.get(url)
        time.sleep(2.5)  # the first state, then a pushed update
        d.save_screenshot(str(path))
    finally:
        d.quit()
    return True


def run(out: str | Path = "demo-output", quick: bool = False) -> dict:
    """The demo station's run; the signals it watches are made in a temporary folder (half a
    gigabyte of IQ), the history, recording and screenshot are left in ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="sdrcast-monitor-demo-") as tmp:
        return _run(out, _signals(Path(tmp), quick))


def _run(out: Path, channels: list[ChannelConfig]) -> dict:
    db = out / "monitor.sqlite"
    for f in out.glob("monitor.sqlite*"):
        f.unlink()
    cfg = StationConfig(channels=tuple(channels), http="127.0.0.1:0", database=str(db),
                        recordings=str(out / "monitor-recordings"), pre_s=0.5, post_s=0.5,
                        alarms=(AlarmRule("mer_db", below=18.0, hold_s=1, hysteresis=1.0, severity="major",
                                          name="MER below 18 dB"),
                                AlarmRule("sync", below=0.5, hold_s=2, severity="critical",
                                          name="no signal")),
                        name="demo station")
    hold = threading.Event()
    st = Station(cfg, hold=hold)
    th = threading.Thread(target=st.run, name="monitor-demo")
    th.start()
    try:
        while not all(c.ended for c in st.channels.values()) and th.is_alive():
            time.sleep(0.2)
        time.sleep(1.5)
        shot = st.web is not None and screenshot(f"http://{st.web.address}/", out / "monitor_page.png")
    finally:
        hold.set()
        th.join()
    alarms = [e for e in st.store.events(0, 1e12) if e["kind"] == "alarm"][::-1]
    for e in alarms:
        print(f"monitor demo: {e['message']}")
    recs = st.store.recordings()
    print(f"monitor demo: history {db}, {len(recs)} alarm recording(s) in {cfg.recordings}/"
          + (", page screenshot monitor_page.png" if shot else
             " (no screenshot: Debian's chromium and chromium-driver are not installed)"))
    return {"alarms": [e["message"] for e in alarms], "recordings": [r["path"] for r in recs],
            "seconds": st.summary()["seconds"], "screenshot": bool(shot)}
