"""The test kit's own guarantees that other tests lean on."""
from __future__ import annotations

import socket

from .kit.idp import _outgoing_port_range, free_port


def test_free_ports_are_never_handed_out_twice_and_never_in_the_outgoing_range():
    # A stack reserves its shim port long before a shim listens there; were the
    # same port handed to another server meanwhile, or taken as the source port
    # of a client connection, the next shim could not bind. 2000 draws from the
    # kernel's ~28000 ephemeral ports repeat one almost surely (birthday bound).
    low, high = _outgoing_port_range()
    ports = [free_port() for _ in range(2000)]
    assert len(set(ports)) == len(ports)
    if low - 10000 >= 4096:
        assert not [p for p in ports if low <= p <= high]
    for port in ports[:20]:  # and each is really bindable
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))
