"""The station's web page in a real browser (Debian's headless Chromium driven by Selenium):
it loads from the station alone, its live values change, an alarm appears when the channel
degrades; /metrics parses as Prometheus text. The screenshot is left in
build/test-output/monitor_page.png (issue 14)."""
import shutil
import threading
import time
import urllib.request

import numpy as np
import pytest

from sdrcast.monitor.config import AlarmRule, ChannelConfig, StationConfig
from sdrcast.monitor.demo import headless_chromium
from sdrcast.monitor.station import Station
from sdrcast.sdr_io.files import write_samples
from tests.conftest import ROOT
from tests.loopback.test_monitor import atsc3_signal, noisy

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(not (CHROMIUM and DRIVER),
                                reason="Debian's chromium and chromium-driver are not installed "
                                       "(make test installs them when run as root)")


def wait_for(pred, timeout: float, what: str):
    """``pred()`` once it is true; the page redraws its tables every second, so an element
    read just as it is replaced (stale) is read again."""
    from selenium.common.exceptions import StaleElementReferenceException

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            v = pred()
        except StaleElementReferenceException:
            v = None
        if v:
            return v
        time.sleep(0.3)
    raise AssertionError(f"no {what} within {timeout:g} s")


def test_the_page_shows_live_values_and_an_alarm(tmp_path):
    from prometheus_client.parser import text_string_to_metric_families
    from selenium.webdriver.common.by import By

    iq, rate = atsc3_signal(4.0)
    half = iq.size // 2
    y = np.concatenate([noisy(iq[:half], 30, 1), noisy(iq[half:], 14, 2)])
    write_samples(tmp_path / "a.sigmf-data", y, rate, 593e6)
    cfg = StationConfig(channels=(ChannelConfig("atsc3-593", str(tmp_path / "a.sigmf-data"), loop=True),),
                        alarms=(AlarmRule("mer_db", below=20.0, hold_s=1, severity="critical",
                                          name="MER below 20 dB"),),
                        http="127.0.0.1:0", database=str(tmp_path / "m.sqlite"),
                        recordings=str(tmp_path / "rec"), duration=240, name="test station")
    st = Station(cfg)
    th = threading.Thread(target=st.run)
    th.start()
    d = None
    try:
        wait_for(lambda: st.web is not None and ":0" not in st.web.address, 20, "web server")
        url = f"http://{st.web.address}/"
        d = headless_chromium(1300, 1500)
        d.get(url)
        assert "sdrcast monitor" in d.title
        row = wait_for(lambda: d.find_elements(By.CSS_SELECTOR, "tr.channel[data-name='atsc3-593']"), 30,
                       "channel row")
        first = wait_for(lambda: _mer(d), 120, "MER value")  # a cold numba cache: a minute
        updates = wait_for(lambda: int(d.find_element(By.ID, "updates").text.split()[0]), 10, "updates")
        alarm = wait_for(lambda: [e.text for e in d.find_elements(By.CSS_SELECTOR, "#alarms li.alarm")], 90,
                         "alarm on the page")
        assert alarm == ["atsc3-593: MER below 20 dB (critical)"]
        assert wait_for(lambda: int(d.find_element(By.ID, "updates").text.split()[0]) > updates, 10,
                        "updates")  # pushed every second
        mers = {first}
        wait_for(lambda: mers.add(_mer(d)) or len(mers) > 1, 30, "a changed MER")
        assert row
        ev = wait_for(lambda: d.find_element(By.ID, "events").text, 10, "events")
        assert "alarm raised" in ev and "atsc3 identified" in ev
        out = ROOT / "build" / "test-output"
        out.mkdir(parents=True, exist_ok=True)
        d.save_screenshot(str(out / "monitor_page.png"))
        text = urllib.request.urlopen(url + "metrics", timeout=10).read().decode()
        fams = {f.name: f for f in text_string_to_metric_families(text)}
        assert fams["sdrcast_alarm_active"].samples[0].labels["alarm"] == "MER below 20 dB"
        assert fams["sdrcast_mer_db"].samples[0].labels == {"channel": "atsc3-593"}
    finally:
        if d is not None:
            d.quit()
        st.stop()
        th.join(30)
    assert not th.is_alive()


def _mer(d):
    from selenium.webdriver.common.by import By

    cells = d.find_elements(By.CSS_SELECTOR, "tr.channel td.c4")
    return cells[0].text if cells and cells[0].text not in ("", "–") else None
