"""The screens' Socket.IO packets: encoded with orjson, without a walk for binary attachments, and read by
python-socketio's own decoder exactly as its own encoding is."""
from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st
from socketio import packet

from feeds.bus.push import ScreenJson, screen_packet

JSONABLE = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5),
    max_leaves=40)


@settings(max_examples=300)
@given(payload=JSONABLE)
def test_a_screen_event_decodes_to_what_the_library_s_own_packet_carries(payload: object) -> None:
    ours = screen_packet()(packet.EVENT, namespace="/live", data=["delta", payload]).encode()
    theirs = packet.Packet(packet.EVENT, namespace="/live", data=["delta", payload]).encode()
    assert isinstance(ours, str)
    assert packet.Packet(encoded_packet=ours).data == packet.Packet(encoded_packet=theirs).data == ["delta", payload]


def test_bytes_among_an_event_s_arguments_still_go_as_an_attachment() -> None:
    encoded = screen_packet()(packet.EVENT, namespace="/live", data=["clip", b"\x00\x01"]).encode()
    assert isinstance(encoded, list) and encoded[1] == b"\x00\x01"  # the header, then the attachment


def test_the_json_module_keeps_what_the_standard_library_would() -> None:
    value = {"seq": 7, 3: "grid", "patrols": {"U1": {"lat": 30.5, "lon": 120.25}}}
    assert ScreenJson.loads(ScreenJson.dumps(value, separators=(",", ":"))) == json.loads(json.dumps(value))
