"""Which simulated patrol units report as phones, and which of a tick's messages they send."""
from simulators.phones import Phones, device_of, phone_units
from tests import factories


def test_every_tenth_unit_in_id_order_is_a_phone_the_same_in_every_run():
    units = [f"P{n:04d}" for n in range(1, 97)]
    phones = phone_units(reversed(units))
    assert phones == set(units[::10]) and len(phones) == 10
    assert phone_units(units, 1.0) == set(units) and phone_units(units, 0) == set()
    assert phone_units(["P0001"], 0.01) == {"P0001"}  # at least one
    assert device_of("P0001") == "sim-P0001"


def test_the_phones_take_their_units_live_fixes_and_leave_the_rest_to_the_bus():
    phones = Phones("http://127.0.0.1:5055", {"P0001"})
    mine = factories.position("P0001")
    drilled = factories.position("P0001").model_copy(update={"drill_id": "D1", "id": "d-1"})
    other, report = factories.position("P0002"), factories.incident()
    sent, rest = phones.split([mine, other, drilled, report])
    assert sent == [mine] and rest == [other, drilled, report]  # a drill's fixes stay on the bus, with its id
    assert phones.url == "http://127.0.0.1:5055/"
