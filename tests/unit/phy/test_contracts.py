"""Every standard keeps one transmitter and one receiver contract (phy/contracts.py)."""
import numpy as np
import pytest

from sdrcast.errors import SyncLost
from sdrcast.mac.ts import sample_stream
from sdrcast.phy.atsc3 import Atsc3Config, Atsc3Transmitter
from sdrcast.phy.atsc3.receiver import Atsc3Receiver
from sdrcast.phy.contracts import Receiver, ReceiverReport, Transmitter
from sdrcast.phy.dtmb import DtmbConfig, DtmbReceiver, DtmbTransmitter
from sdrcast.phy.dtmb.stages import latency_frames

COMMON = set(ReceiverReport("x").to_dict())


def test_transmitters_keep_the_contract():
    cfg = DtmbConfig("pn420", False, 3780, "4QAM", 0.4, 1)
    for tx in (DtmbTransmitter(cfg), Atsc3Transmitter(Atsc3Config.preset("vector_s01"))):
        assert isinstance(tx, Transmitter) and tx.sample_rate > 0 and tx.nominal_power > 0
    ts = sample_stream(cfg.ts_bytes_per_frame // 188)
    # modulate = push + flush: the input frame, then the interleaver's delay of null frames
    assert DtmbTransmitter(cfg).modulate(ts).size == (1 + latency_frames(cfg)) * cfg.frame_symbols
    assert DtmbTransmitter(cfg).push(ts).size == cfg.frame_symbols


@pytest.mark.parametrize("make", [lambda: DtmbReceiver(), lambda: Atsc3Receiver()],
                         ids=["dtmb", "atsc3"])
def test_receivers_keep_the_contract_and_report_no_signal_alike(make, rng):
    rx = make()
    assert isinstance(rx, Receiver)
    noise = (0.1 * (rng.standard_normal(200_000) + 1j * rng.standard_normal(200_000))).astype(np.complex64)
    with pytest.raises(SyncLost):
        rx.demodulate(noise)
    rep = rx.report()
    assert COMMON <= set(rep) and rep["sync_state"] == "searching" and rep["samples_in"] == 200_000


def test_dtmb_report_follows_the_sync_state():
    cfg = DtmbConfig("pn420", False, 3780, "4QAM", 0.4, 1)
    iq = DtmbTransmitter(cfg).modulate(sample_stream(3 * cfg.ts_bytes_per_frame // 188))
    rx = DtmbReceiver()
    out, rep = rx.demodulate(iq)
    assert rep["sync_state"] == "tracking" and rep["acquisitions"] == 1
    assert rep["payload"]["ts_packets_out"] == out.size // 188 > 0
    assert rep["mer_db"] > 30 and abs(rep["cfo_hz"]) < 1


def test_dtmb_sync_state_machine_logs_loss_and_recovery_at_absolute_samples():
    """A 20-frame fade: tracking from the start, lost where the fade is found, tracking
    again when the signal is back, each at an absolute sample index."""
    from sdrcast.channel.impairments import SampleGaps

    cfg = DtmbConfig("pn420", True, 3780, "4QAM", 0.4, 1)
    iq = DtmbTransmitter(cfg).push(sample_stream((latency_frames(cfg) + 40) * cfg.ts_bytes_per_frame
                                                 // 188, seed=4))
    fade = 60 * cfg.frame_symbols
    y = SampleGaps(period=iq.size, length=20 * cfg.frame_symbols, first=fade, mode="zero")(iq)
    rx = DtmbReceiver()
    for i in range(0, y.size, 50_000):
        rx.push(y[i:i + 50_000])
    rx.flush()
    rep = rx.report()
    states = [s for _, s in rep["sync_transitions"]]
    samples = [n for n, _ in rep["sync_transitions"]]
    assert states == ["tracking", "lost", "tracking"] and rep["sync_state"] == "tracking"
    assert samples[0] == 0 and fade < samples[1] < fade + 6 * cfg.frame_symbols
    assert samples[2] >= fade + 20 * cfg.frame_symbols - cfg.frame_symbols
