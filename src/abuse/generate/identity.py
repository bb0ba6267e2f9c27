"""Who people appear to be: phone numbers, IP addresses, registration channels."""

from __future__ import annotations

import numpy as np

from abuse.generate.columns import CHANNELS


def _ints(text: str) -> np.ndarray:
    return np.array([int(x) for x in text.split()])


# first octets of address space held by Chinese ISPs (home broadband)
ISP_FIRST_OCTETS = _ints(
    "36 39 42 58 59 60 61 101 106 110 111 112 113 114 115 116 117 118 119 120 "
    "121 122 123 124 125 171 175 180 182 183 202 210 211 218 219 220 221 222"
)
# number segments of the three big operators, and of virtual operators (MVNOs)
MNO_PREFIXES = _ints(
    "130 131 132 133 134 135 136 137 138 139 150 151 152 153 155 156 157 158 159 "
    "166 173 177 180 181 182 183 185 186 187 188 189 191 198 199"
)
VIRTUAL_PREFIXES = _ints("170 171 162 165 167")
# first octets of cloud / hosting ranges where proxies and bots live
HOSTING_FIRST_OCTETS = (47, 106, 119, 139, 8)


def home_ips(rng: np.random.Generator, n: int) -> np.ndarray:
    first = rng.choice(ISP_FIRST_OCTETS, n)
    return (first << 24) | rng.integers(0, 1 << 24, n)


def mobile_ips(rng: np.random.Generator, n: int) -> np.ndarray:
    """Carrier-grade NAT addresses of mobile data, shared by many people."""
    return (223 << 24) | (104 << 16) | rng.integers(0, 1 << 14, n)


def block_ips(rng: np.random.Generator, n: int, blocks: np.ndarray) -> np.ndarray:
    """Hosts spread over the given /24 networks (given as the top 24 bits)."""
    return (rng.choice(blocks, n) << 8) | rng.integers(2, 254, n)


def random_blocks(rng: np.random.Generator, n: int) -> np.ndarray:
    """n random /24 networks in hosting ranges."""
    return (rng.choice(np.array(HOSTING_FIRST_OCTETS), n) << 16) | rng.integers(0, 1 << 16, n)


def phones(rng: np.random.Generator, n: int, virtual_share: float = 0.03) -> np.ndarray:
    """Full 11-digit numbers, mostly from ordinary operators."""
    virtual = rng.random(n) < virtual_share
    p3 = np.where(virtual, rng.choice(VIRTUAL_PREFIXES, n), rng.choice(MNO_PREFIXES, n))
    return p3 * 100_000_000 + rng.integers(0, 100_000_000, n)


def channels(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.choice(len(CHANNELS), n, p=[0.55, 0.15, 0.24, 0.05, 0.01])
