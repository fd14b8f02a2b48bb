"""A corpus of malformed events files: (name, bytes, events kept, words the report must contain)."""

from __future__ import annotations

import json

HEADER = "id,date,title,place,country,lat,lon,category,source_url,date_basis\n"
GOOD = "good-1,2025-03-26,Good row,San Salvador,SV,13.69,-89.19,visit,,\n"


def _csv(*rows: str) -> bytes:
    return (HEADER + GOOD + "".join(rows)).encode()


def _geojson(*features: dict) -> bytes:
    good = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [-89.19, 13.69]},
            "properties": {"id": "good-1", "date": "2025-03-26", "title": "Good row",
                           "place": "San Salvador", "country": "SV"}}
    return json.dumps({"type": "FeatureCollection", "features": [good, *features]}).encode()


def _feature(coords: object, geom_type: str = "Point") -> dict:
    return {"type": "Feature", "geometry": {"type": geom_type, "coordinates": coords},
            "properties": {"id": "bad-1", "date": "2025-03-27", "title": "Bad row",
                           "place": "Bogotá", "country": "CO"}}


# Each case: file name, content, how many valid events survive, fragments of the report.
CASES: list[tuple[str, bytes, int, tuple[str, ...]]] = [
    ("missing-title.csv", _csv("bad-1,2025-03-27,,Bogotá,CO,4.61,-74.08,,,\n"), 1,
     ("line 3", "field 'title'", "required")),
    ("bad-date.csv", _csv("bad-1,2025-13-45,T,Bogotá,CO,4.61,-74.08,,,\n"), 1,
     ("line 3", "field 'date'", "'2025-13-45' is not a date", "YYYY-MM-DD")),
    ("words-date.csv", _csv("bad-1,March 27,T,Bogotá,CO,4.61,-74.08,,,\n"), 1,
     ("field 'date'", "'March 27' is not a date")),
    ("naive-time.csv", _csv("bad-1,2025-03-27T10:30,T,Bogotá,CO,4.61,-74.08,,,\n"), 1,
     ("field 'date'", "no UTC offset")),
    ("text-lat.csv", _csv("bad-1,2025-03-27,T,Bogotá,CO,north,-74.08,,,\n"), 1,
     ("field 'lat'", "'north' is not a finite number")),
    ("lat-95.csv", _csv("bad-1,2025-03-27,T,Bogotá,CO,95,-74.08,,,\n"), 1,
     ("field 'lat'", "95", "between -90 and 90")),
    ("lon-200.csv", _csv("bad-1,2025-03-27,T,Bogotá,CO,4.61,-200,,,\n"), 1,
     ("field 'lon'", "-200", "between -180 and 180")),
    ("nan-inf.csv", _csv("bad-1,2025-03-27,T,Bogotá,CO,nan,inf,,,\n"), 1,
     ("field 'lat'", "'nan' is not a finite number", "field 'lon'", "'inf'")),
    ("half-coords.csv", _csv("bad-1,2025-03-27,T,Bogotá,CO,4.61,,,,\n"), 1,
     ("both 'lat' and 'lon'",)),
    ("country-xx.csv", _csv("bad-1,2025-03-27,T,Bogotá,XX,4.61,-74.08,,,\n"), 1,
     ("field 'country'", "'XX' is not an ISO 3166-1 alpha-2")),
    ("wrong-country.csv", _csv("bad-1,2025-03-27,T,Bogotá,MX,4.61,-74.08,,,\n"), 1,
     ("is not in Mexico (MX)",)),
    ("bad-id.csv", _csv("Bad Id!,2025-03-27,T,Bogotá,CO,4.61,-74.08,,,\n"), 1,
     ("field 'id'", "not a slug")),
    ("duplicate-id.csv", _csv("good-1,2025-03-27,T,Bogotá,CO,4.61,-74.08,,,\n"), 1,
     ("line 3", "duplicate id 'good-1'", "first used at line 2")),
    ("bad-basis.csv", _csv("bad-1,2025-03-27,T,Bogotá,CO,4.61,-74.08,,,guessed\n"), 1,
     ("field 'date_basis'", "'stated' or 'inferred'")),
    ("javascript-url.csv", _csv("bad-1,2025-03-27,T,Bogotá,CO,4.61,-74.08,,javascript:alert(1),\n"),
     1, ("field 'source_url'", "not an http(s) link")),
    ("truncated.csv", _csv('bad-1,2025-03-27,"Unclosed,Bogotá,CO,4.61,-74.08\n'), 1,
     ("line 3", "quoted value is probably not closed")),
    ("too-many-values.csv", _csv("bad-1,2025-03-27,T,Bogotá,Colombia,CO,4.61,-74.08,,,\n"), 1,
     ("line 3", "11 values but the header names 10 columns")),
    ("semicolons.csv", b"id;date;title;place;country\nx;2025-03-26;T;San Salvador;SV\n", 0,
     ("line 1", "';' between values")),
    ("utf16.csv", (HEADER + GOOD).encode("utf-16"), 0, ("not UTF-8", "UTF-16")),
    ("latin1.csv", (HEADER + GOOD.replace("San Salvador", "Bogotá")).encode("latin-1"), 0,
     ("not UTF-8",)),
    ("garbage.csv", bytes(range(256)) * 8, 0, ("not UTF-8",)),
    ("empty.csv", b"", 0, ("empty",)),
    ("header-only.csv", HEADER.encode(), 0, ("no events",)),
    ("feature.geojson", json.dumps(_feature([-74.08, 4.61])).encode(), 0,
     ("not a GeoJSON FeatureCollection",)),
    ("linestring.geojson", _geojson(_feature([[-74.0, 4.6], [-74.1, 4.7]], "LineString")), 1,
     ("feature 1", "must be a Point", "LineString")),
    ("nan.geojson", _geojson(_feature([float("nan"), float("inf")])), 1,
     ("feature 1", "not a finite number")),
    ("swapped.geojson", _geojson(_feature([4.61, -74.08])), 1,
     ("feature 1", "not in Colombia (CO)", "swapped")),
    ("broken.geojson", b'{"type": "FeatureCollection", "features": [', 0, ("not valid JSON",)),
    ("empty.geojson", b"   ", 0, ("empty",)),
]
