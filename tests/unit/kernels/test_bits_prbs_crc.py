import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sdrcast.errors import ConfigError
from sdrcast.phy.crc import CRC8, CRC16_ARC, CRC16_CCITT_FALSE, CRC32, CRC32_MPEG2, Crc
from sdrcast.phy.kernels import bits as kb
from sdrcast.phy.kernels.crc import crc_bits
from sdrcast.phy.kernels.prbs import lfsr_fibonacci, lfsr_galois, prbs


@given(st.binary(max_size=200))
def test_unpack_pack_round_trip_and_matches_numpy(data):
    arr = np.frombuffer(data, np.uint8)
    bits = kb.unpack_bits(arr)
    np.testing.assert_array_equal(bits, np.unpackbits(arr))
    np.testing.assert_array_equal(kb.pack_bits(bits), arr)
    np.testing.assert_array_equal(kb.unpack_bits(arr, False), np.unpackbits(arr, bitorder="little"))


def test_pack_pads_partial_byte_with_zeros():
    assert kb.pack_bits(np.array([1, 0, 1], np.uint8))[0] == 0b10100000


@given(st.integers(0, 2**40 - 1))
def test_int_bits_round_trip(v):
    assert kb.bits_to_int(kb.int_to_bits(v, 40)) == v


def test_symbol_labels_round_trip():
    bits = np.random.default_rng(0).integers(0, 2, 600, dtype=np.uint8)
    labels = kb.bits_to_symbols(bits, 6)
    assert labels[0] == int("".join(map(str, bits[:6])), 2)
    np.testing.assert_array_equal(kb.symbols_to_bits(labels, 6), bits)


@pytest.mark.parametrize("order", [7, 9, 11, 15])
def test_prbs_is_a_maximal_length_sequence(order):
    period = 2**order - 1
    seq = prbs(order, 2 * period)
    np.testing.assert_array_equal(seq[:period], seq[period:])
    assert seq[:period].sum() == 2 ** (order - 1)
    for shift in (1, 3, period // 2):  # shifted copies disagree on (period + 1) / 2 bits
        assert np.count_nonzero(seq[:period] != np.roll(seq[:period], shift)) == (period + 1) // 2


def test_galois_and_fibonacci_generate_the_same_m_sequence_family():
    poly = (1 << 9) | (1 << 5) | 1
    g, _ = lfsr_galois(poly, 1, 1022)
    assert np.array_equal(g[:511], g[511:]) and g[:511].sum() == 256


def test_dvb_dtmb_energy_dispersal_prbs_first_bytes():
    # 1 + x^14 + x^15, initial state 100101010000000 (D1 first): first bytes 03 F6 08 34 ...
    seq, _ = lfsr_fibonacci((1 << 15) | (1 << 14) | 1, 0x00A9, 64)
    assert kb.pack_bits(seq).tobytes().hex() == "03f6083430b8a393"


def test_prbs_rejects_unknown_order():
    with pytest.raises(ValueError, match="order=8"):
        prbs(8, 10)


@pytest.mark.parametrize("crc, check", [(CRC32, 0xCBF43926), (CRC32_MPEG2, 0x0376E6E7),
                                        (CRC16_CCITT_FALSE, 0x29B1), (CRC16_ARC, 0xBB3D),
                                        (CRC8, 0xF4), (Crc(24, 0x864CFB, 0xB704CE), 0x21CF02),
                                        (Crc(5, 0x05, 0x1F, True, True, 0x1F), 0x19),
                                        (Crc(3, 0x3, 0x7, True, True), 0x6)])
def test_crc_catalogue_check_values(crc, check):
    assert crc(b"123456789") == check


@given(st.binary(max_size=64))
def test_bitwise_crc_equals_bytewise_crc(data):
    arr = np.frombuffer(data, np.uint8)
    assert crc_bits(kb.unpack_bits(arr), 16, 0x1021, 0xFFFF) == CRC16_CCITT_FALSE(data)
    assert crc_bits(kb.unpack_bits(arr), 32, 0x04C11DB7, 0xFFFFFFFF) == CRC32_MPEG2(data)


def test_crc_width_validated():
    with pytest.raises(ConfigError, match="width"):
        Crc(40, 1)
