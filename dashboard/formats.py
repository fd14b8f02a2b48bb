"""Read and write events as CSV and GeoJSON, and load a validated events file."""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import json
import math
import os
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from dashboard import atomic
from dashboard.schema import DERIVED, FIELD_NAMES, EventsFileError, Problem, validate_frame

# Values of any length are read whole: the csv module's default limit (128 KiB) would refuse
# a long description. (This was set before, unnoticed, by importing reverse_geocoder.)
csv.field_size_limit(sys.maxsize)
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")
# str.splitlines also splits at these; csv does not.
_OTHER_BREAKS = "\v\f\x1c\x1d\x1e\x85\u2028\u2029"
# lat/lon come from the geometry in GeoJSON; the derived columns are the loader's own.
RESERVED = frozenset(DERIVED)


@dataclass
class Dataset:
    """Valid events of one file, and every problem found in it."""

    events: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)
    source: str = ""


def _decode(data: bytes, name: str) -> str:
    try:
        # utf-8-sig drops a leading BOM, which spreadsheet programs like to add.
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        looks = " (it looks like UTF-16)" if data[:2] in (b"\xff\xfe", b"\xfe\xff") else ""
        raise EventsFileError(Problem(
            name, f"byte {err.start}", "",
            f"the file is not UTF-8 text{looks}; save it as UTF-8 (\"CSV UTF-8\" in spreadsheet "
            "programs) and try again.")) from err


def _kind(name: str, text: str) -> str:
    suffix = Path(name).suffix.lower()
    if suffix in (".geojson", ".json"):
        return "geojson"
    if suffix == ".csv":
        return "csv"
    return "geojson" if text.lstrip().startswith("{") else "csv"


def _lines(text: str) -> Iterable[str]:
    """The lines csv needs, as io.StringIO(text, newline="") gives them (ends kept, split at
    "\r\n", "\r" and "\n"), without StringIO's copy of the text at four bytes a character."""
    if not any(c in text for c in _OTHER_BREAKS):  # faster than a regex over megabytes
        return text.splitlines(keepends=True)  # the same lines when these are absent
    return (m.group() for m in _LINE.finditer(text))


def read_csv_text(text: str, name: str, data: bytes | None = None) -> pd.DataFrame:
    """Raw CSV records as text columns, with a ``row`` label naming each record's line.

    ``data``, the bytes ``text`` was decoded from (``data.decode("utf-8-sig") == text``),
    saves encoding the text again.
    """
    header, first_line, end = _header(text, name)
    fast = None
    if FAST_CSV:
        head = text[:end].encode("utf-8")
        if data is None:
            data, start = text.encode("utf-8"), len(head)
        else:
            start = len(head) + (len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0)
        fast = _read_regular(data, start, header, first_line)
    if fast is not None:
        (frame, labels), broken = fast, []
    else:
        frame, labels, broken = _read_exact(text, header, name)
    return _finish(frame, labels, broken, header, name)


def _header(text: str, name: str) -> tuple[list[str], int, int]:
    """The column names, the line after the header, and where the header ends in ``text``."""
    # strict: an unclosed quote is an error at the end of the data, not a silently merged row.
    # The header alone is read here: finditer is lazy, so the rest of the text is not split.
    header_lines = _Lines(text)
    reader = csv.reader(header_lines, strict=True)
    try:
        fieldnames = next(reader, None)
    except csv.Error as err:
        raise EventsFileError(Problem(name, "line 1", "", f"cannot read the header ({err}); "
                                      'check the quotes (") in the first line.')) from err
    if not fieldnames or not any(f and f.strip() for f in fieldnames):
        raise EventsFileError(Problem(name, "line 1", "", "the file is empty; it needs a header "
                                      "line naming the columns (id,date,title,place,country,...)."))
    header = [(f or "").strip().lstrip("\ufeff") for f in fieldnames]
    # Unnamed columns (a trailing comma) get a name, so their values are kept, not merged.
    header = [h or f"column_{i + 1}" for i, h in enumerate(header)]
    twice = sorted({h for h in header if header.count(h) > 1})
    if twice:
        raise EventsFileError(Problem(name, "line 1", "", f"the header names {twice[0]!r} more "
                                      "than once; give every column its own name."))
    if len(header) == 1 and ";" in header[0]:
        raise EventsFileError(Problem(name, "line 1", "", "the header has one column "
                                      f"{header[0][:40]!r}; the file seems to use ';' between "
                                      "values. Save it with commas as separators."))
    return header, reader.line_num + 1, header_lines.end


def _finish(frame: pd.DataFrame, labels: Sequence[str] | pd.Series, broken: list[Problem],
            header: list[str], name: str) -> pd.DataFrame:
    for column in header:
        if column in RESERVED:
            broken.append(Problem(name, "line 1", column, f"the column name {column!r} is "
                                  "reserved (eventmap derives it); rename the column. Its values "
                                  "were left out."))
    frame = frame.drop(columns=[c for c in header if c in RESERVED])
    frame["row"] = labels if len(labels) else []  # the csv path's dtype when there is no row
    frame.attrs["problems"] = broken
    return frame


def _read_csv_bytes(data: bytes, name: str) -> pd.DataFrame | None:
    """``read_csv_text`` of a regular file without decoding all of it first; else None.

    Only the header line is decoded here; pyarrow checks the rest is UTF-8. Anything else
    (a header over several lines or with a problem, text that is not UTF-8) returns None,
    for the full reading to find and say.
    """
    newline = data.find(b"\n")
    cr = data.find(b"\r", 0, len(data) if newline == -1 else newline)
    ends = [i for i in (newline, cr) if i != -1]
    end = min(ends) + 1 if ends else len(data)
    if data[end - 1:end + 1] == b"\r\n":
        end += 1
    try:
        head = data[:end].decode("utf-8-sig")
        header, first_line, text_end = _header(head, name)
    except (UnicodeDecodeError, EventsFileError):
        return None
    if text_end != len(head):  # the header did not end with the first line
        return None
    fast = _read_regular(data, end, header, first_line)
    if fast is None:
        return None
    frame, labels = fast
    return _finish(frame, labels, [], header, name)


class _Lines:
    """Lines of a text as csv needs them, read lazily; ``end`` is where the last one ended."""

    def __init__(self, text: str):
        self._matches = _LINE.finditer(text)
        self.end = 0

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        match = next(self._matches)
        self.end = match.end()
        return match.group()


def _read_exact(text: str, header: list[str], name: str) -> tuple[
        pd.DataFrame, list[str], list[Problem]]:
    """The csv module's reading of the records after the header, and the problems met."""
    # csv.reader rather than DictReader: lists are several times faster than a dict per row.
    reader = csv.reader(_lines(text), strict=True)
    next(reader)  # the header, read fine before
    try:
        pieces, labels, broken = _frames(_regular_chunks(reader), header, name)
    except _IrregularLinesError:
        # A line break inside quotes, or broken quotes: read again, record by record, to
        # name the line each record starts on.
        reader = csv.reader(_lines(text), strict=True)
        next(reader)
        pieces, labels, broken = _frames(_numbered_records(reader), header, name)
    frame = (pd.concat(pieces, ignore_index=True) if pieces
             else pd.DataFrame(columns=header, dtype="str"))
    return frame, labels, broken


# Switch for tests: False reads every file with the csv module alone.
FAST_CSV = True
# One CSV value under the csv module's rules, for files whose records are one line each:
# quoted (quotes doubled inside, no line break) or unquoted (a quote only after its start).
# Written as runs of plain characters, not one alternation per character: Python's re would
# keep a backtracking entry for every character of a long value (gigabytes at 50 MB).
_VALUE = r'(?:"[^"\r\n]*(?:""[^"\r\n]*)*"|[^",\r\n][^,\r\n]*)?'
_RECORD = _VALUE + "(?:," + _VALUE + ")*"
_RECORD_BYTES_RE = re.compile(_RECORD.encode())
_RECORDS_RE2 = r"\A(?:" + _RECORD + r"\r?\n)*(?:" + _RECORD + r")?\z"
# Python's str.strip() whitespace, for finding rows that may be blank.
_BLANK_RE2 = (r"^[\t-\r\x{1c}-\x{20}\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}"
              r"\x{202f}\x{205f}\x{3000}]*$")
# Beyond this many quotes, the whole text is checked at once in C++ rather than line by line.
_QUOTED_LINES_IN_PYTHON = 2_000


def _read_regular(data: bytes, start: int, header: list[str], first_line: int) -> tuple[
        pd.DataFrame, pd.Series] | None:
    """Records of a regular file read by pyarrow, as the csv module reads them; else None.

    ``data[start:]`` holds the records as UTF-8. Regular: every record is one line, each as
    wide as the header, quotes only where the csv module accepts them, lines ending in "\\n"
    or "\\r\\n". Then record i is on line ``first_line + i``, and blank lines come out as rows
    of "" (dropped, like the csv path).
    """
    names = [f"c{i}" for i in range(len(header))]
    if start >= len(data):
        return _arrow_frame(pa.table({n: pa.array([], pa.large_string()) for n in names}),
                            header, first_line)
    # Bytes, not text: these scans are several times faster over bytes.
    if (data.find(b"\0", start) != -1 or data.startswith(codecs.BOM_UTF8, start)
            or (data.find(b"\r", start) != -1  # find is a memchr; count is not
                and data.count(b"\r", start) != data.count(b"\r\n", start))
            or not _quotes_are_plain(data, start)):
        return None
    try:
        table = pacsv.read_csv(
            pa.py_buffer(data).slice(start),
            read_options=pacsv.ReadOptions(column_names=names),
            parse_options=pacsv.ParseOptions(newlines_in_values=False, ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.large_string()), strings_can_be_null=False,
                quoted_strings_can_be_null=False))
    except pa.ArrowInvalid:  # a row wider or narrower than the header
        return None
    limit = csv.field_size_limit()
    if len(data) - start > limit and any(pc.max(pc.utf8_length(col)).as_py() > limit
                                         for col in table.columns if table.num_rows):
        return None  # the csv module refuses such a value
    return _arrow_frame(table, header, first_line)


def _quotes_are_plain(data: bytes, start: int) -> bool:
    """Does every line with a quote hold one whole record, quoted as the csv module accepts?"""
    if data.find(b'"', start) == -1:
        return True
    quotes = data.count(b'"', start)
    if quotes > _QUOTED_LINES_IN_PYTHON:
        buf = pa.py_buffer(data).slice(start)
        offsets = pa.py_buffer(np.array([0, buf.size], dtype=np.int64))
        # Binary: matched byte by byte, whatever the bytes (pyarrow checks UTF-8 later).
        whole = pa.Array.from_buffers(pa.large_binary(), 1, [None, offsets, buf])
        return bool(pc.match_substring_regex(whole, _RECORDS_RE2)[0].as_py())
    at = data.find(b'"', start)
    while at != -1:
        begin = max(data.rfind(b"\n", start, at) + 1, start)
        end = data.find(b"\n", at)
        end = len(data) if end == -1 else end
        line = data[begin:end]
        if not _RECORD_BYTES_RE.fullmatch(line[:-1] if line.endswith(b"\r") else line):
            return False
        at = data.find(b'"', end)
    return True


def _arrow_frame(table: pa.Table, header: list[str], first_line: int) -> tuple[
        pd.DataFrame, pd.Series]:
    """Text columns and ``line N`` labels from a table of one record per line."""
    lines = pa.array(np.arange(first_line, first_line + table.num_rows))
    labels = pc.binary_join_element_wise(pa.scalar("line ", pa.large_string()),
                                        pc.cast(lines, pa.large_string()),
                                        pa.scalar("", pa.large_string()))
    if table.num_rows:
        # Blank rows are not events. Only rows whose first value may be blank are looked at.
        maybe = pc.match_substring_regex(table.column(0), _BLANK_RE2)
        if pc.any(maybe).as_py():
            where = np.flatnonzero(maybe.to_numpy(zero_copy_only=False))
            blank = [i for i, rec in zip(where, table.take(where).to_pylist(), strict=True)
                     if not "".join(rec.values()).strip()]
            if blank:
                keep = np.ones(table.num_rows, dtype=bool)
                keep[blank] = False
                table, labels = table.filter(pa.array(keep)), labels.filter(pa.array(keep))
    frame = table.to_pandas()
    frame.columns = header
    return frame, labels.to_pandas()


Chunk = tuple[Sequence[int], list[list[str]], "tuple[int, csv.Error] | None"]
_CHUNK_ROWS = 10_000


class _IrregularLinesError(Exception):
    """The quick reading cannot number the records' lines; read them one by one."""


def _regular_chunks(reader: Any) -> Iterator[Chunk]:
    # Parsed in C, a chunk at a time, while every record is one line: then line numbers
    # follow from positions, and only a chunk's Python strings are alive at once.
    start = reader.line_num + 1
    while True:
        try:
            records = list(itertools.islice(reader, _CHUNK_ROWS))
        except csv.Error as err:
            raise _IrregularLinesError from err
        if not records:
            return
        if reader.line_num != start - 1 + len(records):
            raise _IrregularLinesError
        yield range(start, start + len(records)), records, None
        start += len(records)


def _numbered_records(reader: Any) -> Iterator[Chunk]:
    # One record at a time, noting the line each starts on, up to where the text breaks.
    lines: list[int] = []
    records: list[list[str]] = []
    start = reader.line_num + 1
    failure = None
    while True:
        try:
            rec = next(reader)
        except StopIteration:
            break
        except csv.Error as err:
            failure = (start, err)
            break
        lines.append(start)
        records.append(rec)
        start = reader.line_num + 1
    yield lines, records, failure


def _frames(chunks: Iterable[Chunk], header: list[str], name: str) -> tuple[
        list[pd.DataFrame], list[str], list[Problem]]:
    """Text columns and row labels of the records that are events, and the problems met."""
    width = len(header)
    pieces: list[pd.DataFrame] = []
    labels: list[str] = []
    broken: list[Problem] = []
    for lines, records, failure in chunks:
        # The common case, checked in C: every record complete, none blank.
        if set(map(len, records)) <= {width} and all(map(str.strip, map("".join, records))):
            rows = records
            labels += [f"line {n}" for n in lines]
        else:
            rows = []
            for line, rec in zip(lines, records, strict=True):
                if not "".join(rec[:width]).strip():
                    continue  # blank lines are not events
                if len(rec) > width:  # values beyond the header
                    broken.append(Problem(
                        name, f"line {line}", "", f"the row has {len(rec)} values but the "
                        f"header names {width} columns; quote values that contain commas "
                        '("Bogotá, Colombia").'))
                    continue
                rows.append(rec + [""] * (width - len(rec)))
                labels.append(f"line {line}")
        # Compact text columns: at 100,000 rows, Python strings would take 100 MB more.
        pieces.append(pd.DataFrame(rows, columns=header, dtype=object).astype("str"))
        if failure:
            line, err = failure
            # What was read before the damage is kept; the rest cannot be split into values.
            broken.append(Problem(name, f"line {line}", "", f"cannot read the rest of the file "
                                  f"({err}); a quoted value is probably not closed. Check the "
                                  'quotes (") on this line; the rows before it are kept.'))
    return pieces, labels, broken


def read_geojson_text(text: str, name: str) -> pd.DataFrame:
    """Raw GeoJSON Point features as columns, ``lat``/``lon`` from ``[lon, lat]`` coordinates."""
    if not text.strip():
        raise EventsFileError(Problem(name, "file", "", "the file is empty; it needs a GeoJSON "
                                      "FeatureCollection."))
    try:
        doc = json.loads(text, parse_constant=lambda c: float(c.lower().replace("infinity", "inf")))
    except json.JSONDecodeError as err:
        raise EventsFileError(Problem(name, f"line {err.lineno}", "", f"not valid JSON: {err.msg} "
                                      f"(column {err.colno}).")) from err
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" or not isinstance(
            doc.get("features"), list):
        raise EventsFileError(Problem(name, "file", "", "not a GeoJSON FeatureCollection; the "
                                      'top level must be {"type": "FeatureCollection", '
                                      '"features": [...]}.'))
    rows: list[dict[str, object]] = []
    for i, feat in enumerate(doc["features"]):
        props = feat.get("properties") if isinstance(feat, dict) else None
        rec: dict[str, object] = {}
        if isinstance(props, dict):
            rec = {k: _cell(v) for k, v in props.items() if k not in RESERVED}
        elif props is not None:
            rec["_feature_error"] = ("properties", "'properties' must be an object of field "
                                     "names and values")
        geom = feat.get("geometry") if isinstance(feat, dict) else None
        rec.pop("lat", None), rec.pop("lon", None)
        rec["row"] = f"feature {i}"
        if geom is None:
            rec["lat"] = rec["lon"] = ""
        elif (isinstance(geom, dict) and geom.get("type") == "Point"
              and isinstance(geom.get("coordinates"), list)
              and len(geom["coordinates"]) >= 2):
            lon, lat = geom["coordinates"][:2]
            rec["lat"], rec["lon"] = _cell(lat), _cell(lon)
        else:
            kind = geom.get("type") if isinstance(geom, dict) else type(geom).__name__
            rec["lat"] = rec["lon"] = ""
            rec.setdefault("_feature_error", (
                "geometry", f"geometry must be a Point with [lon, lat]; got {str(kind)[:30]}"))
        rows.append(rec)
    frame = pd.DataFrame(rows, dtype=object)
    if frame.empty:
        frame = pd.DataFrame(columns=[*FIELD_NAMES, "row"], dtype=object)
    return frame


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # 'nan'/'inf' are then reported as non-finite
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def parse_events(data: bytes, name: str) -> Dataset:
    """Validate an events file's bytes (CSV or GeoJSON, chosen by name, then by content)."""
    return _parse_events([data], name)


def _parse_events(holder: list[bytes], name: str) -> Dataset:
    # The bytes come in a list the caller lets go of: then they are freed once read, not
    # held through validation (100 MB at a million rows).
    data = holder.pop()
    if FAST_CSV and Path(name).suffix.lower() == ".csv":
        raw = _read_csv_bytes(data, name)
        if raw is not None:
            del data
            return _validated(raw, name)
    try:
        text = _decode(data, name)
        if _kind(name, text) == "geojson":
            raw = read_geojson_text(text, name)
        else:
            raw = read_csv_text(text, name, data)
        del text, data  # megabytes at 100,000 events, not needed through validation
    except EventsFileError as err:
        return Dataset(_empty(), [err.problem], name)
    geometry_problems: list[Problem] = []  # features whose shape is wrong, not their fields
    if "_feature_error" in raw.columns:
        broken = raw["_feature_error"].notna()
        geometry_problems = [Problem(name, r, field, message + ".") for r, (field, message) in
                             zip(raw.loc[broken, "row"], raw.loc[broken, "_feature_error"],
                                 strict=True)]
        raw = raw.loc[~broken].drop(columns="_feature_error")
    return _validated(raw, name, geometry_problems)


def _validated(raw: pd.DataFrame, name: str, geometry_problems: Sequence[Problem] = ()
               ) -> Dataset:
    events, problems = validate_frame(raw, name)
    problems = sorted([*raw.attrs.get("problems", []), *geometry_problems, *problems],
                      key=lambda p: _row_order(p.row))
    if raw.empty and not problems:
        problems = [Problem(name, "file", "", "the file has no events; add one row per event.")]
    return Dataset(events, problems, name)


def _row_order(label: str) -> int:
    tail = label.rsplit(" ", 1)[-1]
    return int(tail) if tail.isdigit() else -1


def _empty() -> pd.DataFrame:
    frame, _ = validate_frame(pd.DataFrame(columns=[*FIELD_NAMES, "row"], dtype=object), "")
    return frame


def load_events(path: str | os.PathLike[str]) -> Dataset:
    """Read and validate an events file; an unreadable file is one problem, not a crash."""
    name = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        return Dataset(_empty(), [Problem(name, "file", "", f"cannot read the file: "
                                          f"{err.strerror or err}.")], name)
    holder = [data]
    del data
    return _parse_events(holder, name)


def _columns(events: pd.DataFrame) -> list[str]:
    extra = [c for c in events.columns if c not in FIELD_NAMES and c not in DERIVED]
    return [*FIELD_NAMES, *extra]


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return repr(value)  # shortest text that reads back to the same float
    return str(value)


def to_csv_text(events: pd.DataFrame) -> str:
    """Events as CSV text in schema column order, extra columns after."""
    cols = _columns(events)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(cols)
    for rec in events.reindex(columns=cols).itertuples(index=False, name=None):
        writer.writerow([_text(v) for v in rec])
    return out.getvalue()


def to_geojson_text(events: pd.DataFrame) -> str:
    """Events as an RFC 7946 FeatureCollection; rows without coordinates get a null geometry."""
    cols = [c for c in _columns(events) if c not in ("lat", "lon")]
    features = []
    for rec in events.reindex(columns=[*cols, "lat", "lon"]).to_dict("records"):
        lat, lon = rec.pop("lat"), rec.pop("lon")
        props = {k: _text(v) for k, v in rec.items() if _text(v) != ""}
        located = not (pd.isna(lat) or pd.isna(lon))
        geom = {"type": "Point", "coordinates": [float(lon), float(lat)]} if located else None
        features.append({"type": "Feature", "id": props.get("id"), "geometry": geom,
                         "properties": props})
    doc = {"type": "FeatureCollection", "features": features}
    return json.dumps(doc, ensure_ascii=False, indent=1) + "\n"


def write_events(events: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Write events atomically as CSV or GeoJSON, chosen by the file's suffix."""
    text = (to_geojson_text(events) if Path(path).suffix.lower() in (".geojson", ".json")
            else to_csv_text(events))
    atomic.write_text(path, text)
