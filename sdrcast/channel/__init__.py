"""Channel emulator: noise, multipath fading and RF impairments (streaming-correct, seeded)."""
from sdrcast.channel.awgn import Awgn, add_awgn

__all__ = ["Awgn", "add_awgn"]
