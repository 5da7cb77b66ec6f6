"""PostgreSQL array literals made in Python (feeds/store/arrays.py) read back by the server as the values they
were made of, whatever a producer's strings hold (quotes, backslashes, commas, braces, NULL, spaces)."""
from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feeds.store.arrays import integer_array, moment_array, number_array, text_array
from feeds.store.engine import make_engine

TEXT = st.text(st.characters(exclude_characters="\x00", codec="utf-8"), max_size=12)  # PostgreSQL text holds no NUL
MOMENTS = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))


def test_the_server_reads_each_literal_back_as_its_values(postgres_server) -> None:
    engine = make_engine(postgres_server)

    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.lists(st.none() | TEXT, max_size=8),
           st.lists(st.none() | st.floats(allow_nan=False, allow_infinity=False), max_size=8),
           st.lists(st.none() | st.integers(-2**63, 2**63 - 1), max_size=8),
           st.lists(st.none() | MOMENTS, max_size=8))
    def read_back(texts, numbers, integers, moments) -> None:
        with engine.connect() as conn:
            got = conn.exec_driver_sql("SELECT %s::text[], %s::float8[], %s::int8[], %s::timestamptz[]", (
                text_array(texts), number_array(numbers), integer_array(integers), moment_array(moments))).one()
        assert list(got) == [texts, numbers, integers, moments]

    try:
        read_back()
    finally:
        engine.dispose()
    assert text_array(['a"b', "c\\d", "e,f", "{g}", "NULL", None]) == r'{"a\"b","c\\d","e,f","{g}","NULL",NULL}'
