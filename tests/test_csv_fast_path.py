"""pyarrow's reading of regular CSV files gives exactly the csv module's result, or is not used."""

from __future__ import annotations

import codecs
import csv

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboard import formats
from dashboard.formats import parse_events, read_csv_text, to_csv_text
from dashboard.schema import EventsFileError
from tests.broken_files import CASES
from tests.hostile import PAYLOADS, hostile_csv
from tests.sample_events import make_events

HEADER = "id,date,title,place,country,lat,lon,summary\n"
ROW = "a-{n},2025-03-27,Title {n},Bogotá,CO,4.61,-74.08,{summary}"


def _rows(n: int, summary: str = "", end: str = "\n") -> str:
    return "".join(ROW.format(n=i, summary=summary) + end for i in range(n))


def _read(text: str, fast: bool, monkeypatch, data: bytes | None = None) -> tuple[object, bool]:
    """(frame or the EventsFileError's problem, whether pyarrow's reading was used)."""
    used = []
    regular = formats._read_regular

    def spy(*args):
        result = regular(*args)
        used.append(result is not None)
        return result

    monkeypatch.setattr(formats, "FAST_CSV", fast)
    monkeypatch.setattr(formats, "_read_regular", spy)
    try:
        return read_csv_text(text, "f.csv", data), any(used)
    except EventsFileError as err:
        return err.problem, any(used)


def assert_same_reading(text: str, monkeypatch) -> bool:
    """Both readings agree (frame, dtypes, labels, problems); return whether pyarrow's was used."""
    exact, used_exact = _read(text, False, monkeypatch)
    fast, used = _read(text, True, monkeypatch)
    assert not used_exact
    # The bytes the text came from, with and without a BOM, are read the same way.
    for data in (text.encode("utf-8"), codecs.BOM_UTF8 + text.encode("utf-8")):
        if data.decode("utf-8-sig") != text:
            continue  # not bytes this text is read from
        from_bytes, used_bytes = _read(text, True, monkeypatch, data)
        assert used_bytes == used
        _assert_same(from_bytes, exact)
    _assert_same(fast, exact)
    # Files read from their bytes, only the header decoded: when taken, the same reading.
    for data in (text.encode("utf-8"), codecs.BOM_UTF8 + text.encode("utf-8")):
        if data.decode("utf-8-sig") == text:
            monkeypatch.setattr(formats, "FAST_CSV", True)
            from_bytes = formats._read_csv_bytes(data, "f.csv")
            assert (from_bytes is not None) <= used
            if from_bytes is not None:
                _assert_same(from_bytes, exact)
    return used


def assert_same_events(data: bytes, monkeypatch) -> None:
    """A whole file, from its bytes to validated events and problems."""
    monkeypatch.setattr(formats, "FAST_CSV", False)
    exact = parse_events(data, "f.csv")
    monkeypatch.setattr(formats, "FAST_CSV", True)
    fast = parse_events(data, "f.csv")
    pd.testing.assert_frame_equal(fast.events, exact.events)
    assert fast.problems == exact.problems


def _assert_same(fast: object, exact: object) -> None:
    if isinstance(exact, pd.DataFrame):
        assert isinstance(fast, pd.DataFrame)
        pd.testing.assert_frame_equal(fast, exact)
        assert fast.attrs["problems"] == exact.attrs["problems"]
    else:
        assert fast == exact


@pytest.fixture(params=["line by line", "whole text"])
def quote_check(request, monkeypatch):
    """Quoted lines are checked in Python when few, by one RE2 match over the text when many."""
    monkeypatch.setattr(formats, "_QUOTED_LINES_IN_PYTHON", 10**9 if request.param ==
                        "line by line" else 0)


REGULAR = {
    "plain": HEADER + _rows(5),
    "crlf": HEADER.replace("\n", "\r\n") + _rows(5, end="\r\n"),
    "no final newline": HEADER + _rows(3)[:-1],
    "header only": HEADER,
    "header without newline": HEADER[:-1],
    "header and blank lines": HEADER + "\n\n\r\n",
    "blank lines between and after": HEADER + _rows(2) + "\n\n" + _rows(2) + "\n\n",
    "comma-only rows": HEADER + _rows(1) + ",,,,,,,\n" + " , ,,,,,,\t\n" + _rows(1),
    "unicode-blank rows": HEADER + "\u3000,\xa0,\x85,\u2028,\x1c,\v,\f,\u202f\n" + _rows(2),
    "blank-first rows kept": HEADER + ",2025-03-27,T,Bogotá,CO,,,\n \xa0,,,,,,,x\n",
    "quoted commas": HEADER + _rows(4, summary='"Met, then left"'),
    "doubled quotes": HEADER + _rows(3, summary='"He said ""hola"", twice"'),
    "quoted empty": HEADER + _rows(3, summary='""'),
    "quote inside a value": HEADER + _rows(3, summary='5" tall, 6"'.replace(",", ";")),
    "space before a quote": HEADER + _rows(3, summary=' "quoted" later'),
    "other line breaks in values": HEADER + _rows(3, summary="a\x85b\u2028c\u2029d\ve\ff\x1eg"),
    "non-ascii": HEADER + _rows(3, summary="Ñandú 中文 \U0001F5FA\ufe0f \ufeff in the middle"),
    "null-ish words": HEADER + _rows(2, summary="NA") + _rows(2, summary="null")
    + _rows(2, summary="nan") + _rows(2, summary="None") + _rows(2, summary="#N/A"),
    "quoted everything": HEADER + "".join(
        ",".join(f'"{v}"' for v in ROW.format(n=i, summary="s").split(",")) + "\n"
        for i in range(3)),
    "reserved columns": "id,date,title,place,country,instant,row,day\n"
                        "a,2025-03-27,T,Bogotá,CO,x,y,z\n",
    "unnamed columns": "id,date,title,place,country,,\na,2025-03-27,T,Bogotá,CO,1,2\n",
    "bom": "\ufeff" + HEADER + _rows(2),
    "quoted header": '"id","date",title,place,country,lat,lon,"summary"\n' + _rows(2),
    "semicolons in values": HEADER + _rows(2, summary="a; b; c"),
}

IRREGULAR = {
    "quoted line break": HEADER + _rows(1) + ROW.format(n=9, summary='"two\nlines"\n') + _rows(1),
    "quoted crlf": HEADER + _rows(1, summary='"two\r\nlines"', end="\r\n"),
    "short row": HEADER + _rows(1) + "x,2025-03-27\n" + _rows(1),
    "long row": HEADER + _rows(1) + ROW.format(n=9, summary="s,extra") + "\n",
    "text after a closing quote": HEADER + _rows(1, summary='"a"b'),
    "space after a closing quote": HEADER + _rows(1, summary='"a" '),
    "unclosed quote": HEADER + _rows(2) + ROW.format(n=9, summary='"open'),
    "unclosed quote before more rows": HEADER + ROW.format(n=9, summary='"open\n') + _rows(2),
    "cr line ends": HEADER.replace("\n", "\r") + _rows(3, end="\r"),
    "mixed line ends": HEADER + _rows(1, end="\r") + _rows(1, end="\r\n") + _rows(1),
    "nul": HEADER + _rows(1, summary="a\0b"),
    "bom on the second line": HEADER + "\ufeff" + _rows(2),
    "semicolon file": "id;date;title\na;2025-03-27;T\n",
    "empty": "",
    "blank header": "\n\n" + _rows(2),
    "duplicate header": "id,id\n1,2\n",
    "broken header quote": '"id,date\n',
    "header with a line break": '"i\nd",date,title,place,country\na,2025-03-27,T,B,CO\n',
    "blank row as wide as a short one": HEADER + " \n" + _rows(1),
}


@pytest.mark.usefixtures("quote_check")
@pytest.mark.parametrize("name", list(REGULAR))
def test_regular_files_are_read_by_pyarrow_as_the_csv_module_reads_them(name, monkeypatch):
    assert assert_same_reading(REGULAR[name], monkeypatch)


@pytest.mark.parametrize("name", list(REGULAR) + list(IRREGULAR))
def test_files_validate_the_same_both_ways(name, monkeypatch):
    text = {**REGULAR, **IRREGULAR}[name]
    assert_same_events(text.encode("utf-8"), monkeypatch)


@pytest.mark.usefixtures("quote_check")
@pytest.mark.parametrize("name", list(IRREGULAR))
def test_irregular_files_fall_back_to_the_csv_module(name, monkeypatch):
    assert_same_reading(IRREGULAR[name], monkeypatch)


def test_what_the_csv_module_refuses_is_not_read_by_pyarrow(monkeypatch):
    for name in ("text after a closing quote", "unclosed quote", "short row", "long row",
                 "quoted line break", "nul", "cr line ends"):
        assert not _read(IRREGULAR[name], True, monkeypatch)[1], name


@pytest.mark.usefixtures("quote_check")
@pytest.mark.parametrize("data", [
    HEADER.encode() + b"a,2025-03-27,T,B,CO,,,\xff\n",
    HEADER.encode() + b'a,2025-03-27,T,B,CO,,,"\xe9"\n',
    b"\xff" + HEADER.encode() + _rows(2).encode(),
    HEADER.encode()[:-1] + b"\xc3",
    "id,date\n".encode("utf-16"),
    b"id,id\n" + _rows(1).encode() + b"\xff",
    b'"id\n' + _rows(1).encode(),
    b"\xef\xbb\xbf\xef\xbb\xbf" + HEADER.encode() + _rows(1).encode(),
    b"",
], ids=["bad byte", "latin-1 in quotes", "bad byte in header", "cut character", "utf-16",
        "bad header and bad byte", "open quote in header", "two boms", "nothing"])
def test_files_that_are_not_utf8_or_have_no_header_read_the_same_both_ways(data, monkeypatch):
    assert_same_events(data, monkeypatch)


@pytest.mark.parametrize("summary", ['"' + "x" * 200_000 + '"', '"' + "x\n" * 100_000 + '"'],
                         ids=["one line", "many lines"])
def test_values_longer_than_the_csv_modules_default_limit_are_read_whole(summary, monkeypatch):
    text = HEADER + _rows(1, summary=summary) + _rows(1)
    frame, _ = _read(text, True, monkeypatch)
    assert frame["summary"].str.len().tolist() == [len(summary) - 2, 0]
    assert_same_reading(text, monkeypatch)


def test_values_beyond_the_csv_field_limit_fall_back(monkeypatch):
    old = csv.field_size_limit()
    try:
        csv.field_size_limit(50)
        text = HEADER + _rows(2, summary="x" * 60)
        assert not assert_same_reading(text, monkeypatch)
        assert assert_same_reading(HEADER + _rows(2, summary="x" * 10), monkeypatch)
    finally:
        csv.field_size_limit(old)


@pytest.mark.usefixtures("quote_check")
@pytest.mark.parametrize(("name", "data"), [(c[0], c[1]) for c in CASES
                                            if not c[0].endswith((".json", ".geojson"))],
                         ids=[c[0] for c in CASES if not c[0].endswith((".json", ".geojson"))])
def test_the_broken_files_corpus_reads_the_same_both_ways(name, data, monkeypatch):
    try:
        text = formats._decode(data, name)
    except EventsFileError:
        return  # not text: neither reading is reached
    assert_same_reading(text, monkeypatch)
    monkeypatch.setattr(formats, "FAST_CSV", False)
    exact = parse_events(data, name)
    monkeypatch.setattr(formats, "FAST_CSV", True)
    fast = parse_events(data, name)
    pd.testing.assert_frame_equal(fast.events, exact.events)
    assert fast.problems == exact.problems


@pytest.mark.usefixtures("quote_check")
def test_hostile_and_sample_events_read_the_same_both_ways(monkeypatch):
    # Some payloads hold line breaks, so the whole file is read by the csv module.
    assert not assert_same_reading(hostile_csv().decode("utf-8"), monkeypatch)
    one_line = [(k, v) for k, v in PAYLOADS if "\n" not in v and "\r" not in v]
    assert assert_same_reading(hostile_csv(one_line).decode("utf-8"), monkeypatch)
    assert_same_reading(to_csv_text(make_events()), monkeypatch)


_CHARS = st.sampled_from(["a", "b", ",", ",", '"', '"', "\n", "\r\n", "\r", " ", "\t", "\x85",
                          "\u3000", "\xa0", "\ufeff", "\0", "é", ";"])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(header=st.sampled_from(["a,b,c\n", "a\n", "a,b,c,d,e\r\n", "id,date\n"]),
       body=st.lists(_CHARS, max_size=60).map("".join),
       many_quotes=st.booleans())
def test_any_text_reads_the_same_both_ways(header, body, many_quotes, monkeypatch):
    monkeypatch.setattr(formats, "_QUOTED_LINES_IN_PYTHON", 0 if many_quotes else 10**9)
    assert_same_reading(header + body, monkeypatch)
