"""Hostile text: payloads that markup, scripts, templates or Markdown would act on.

Every payload must come out of every renderer as the text it is. ``hostile_rows`` builds valid
events whose every text field carries payloads, for unit tests, the page and the browser.
"""

from __future__ import annotations

import csv
import io

# (name, text). Names are short slugs, used in test ids and event ids.
PAYLOADS: list[tuple[str, str]] = [
    ("script", "<script>alert('script')</script>"),
    ("img-onerror", '<img src=x onerror="alert(\'img\')">'),
    ("svg-onload", "<svg/onload=alert('svg')>"),
    ("event-attr", '" onmouseover="alert(\'attr\')" x="'),
    ("single-attr", "' autofocus onfocus='alert(1)"),
    ("close-script", "</script><script>alert('close')</script>"),
    ("close-style", "</style><img src=x onerror=alert('style')>"),
    ("close-textarea", "</textarea></title><img src=x onerror=alert(1)>"),
    ("js-url", "javascript:alert('url')"),
    ("data-url", "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="),
    ("backticks", "`${alert('tpl')}` and ``code``"),
    ("quotes", "\"double\" 'single' \u201ccurly\u201d \\back\\slash\\"),
    ("jinja", "{{ 7*7 }} {% if 1 %}jinja{% endif %} {# comment #}"),
    ("jinja-rce", "{{ self.__init__.__globals__.__builtins__.__import__('os').getcwd() }}"),
    ("js-template", "${7*7} #{7*7} %{7*7}"),
    ("angular", "{{constructor.constructor('alert(1)')()}}"),
    ("rtl-override", "Bogot\u00e1 \u202egnp.exe\u202c \u2067isolate\u2069"),
    ("zero-width", "zero\u200bwidth\u200c\u200djoin\ufeffbom\u2060"),
    ("line-seps", "line\u2028separator\u2029paragraph\u0085next"),
    ("controls", "bell\x07 tab\t escape\x1b[31m red"),
    ("entities", "&lt;b&gt; &amp;amp; &#60;script&#62; &quot; &nbsp;"),
    ("markdown", "**bold** _it_ # heading\n- item\n> quote `code` ~~del~~ | a | b |"),
    ("md-link", "[click me](javascript:alert('md')) ![pixel](https://example.org/p.png)"),
    ("md-autolink", "<https://example.org> <javascript:alert(1)> www.example.org"),
    ("latex", "$x^2$ and $$\\int_0^1 x\\,dx$$ \\(a\\) \\[b\\]"),
    ("streamlit-md", ":red[red text] :material/home: :smile: :blue-background[bg]"),
    ("html-comment", "<!-- comment --> <![CDATA[ x ]]> <?php echo 1 ?>"),
    ("emoji", "\U0001F5FA\ufe0f \U0001F468\u200d\U0001F469\u200d\U0001F467 \U0001F1F8\U0001F1FB"),
    ("null-ish", "None"),
    ("nan-ish", "NaN"),
    ("csv-formula", "=HYPERLINK(\"https://example.org\",\"x\")"),
    ("percent", "%s %d %(name)s {0} {name}"),
    ("url-like", "https://example.org/?q=<script>&x=\"'"),
    ("very-long", "long " + "A\u00e9\u4e2d<" * 25_000),
]
assert len(PAYLOADS) >= 25

# Fields every event has and shows; each gets payloads. id, date, country, lat and lon are
# checked by the schema, so they stay valid.
TEXT_FIELDS = ("title", "place", "category", "participants", "summary", "source_name",
               "source_quote", "geocode_match", "geocode_query")

# Points spread over El Salvador, Colombia and Mexico, so the route has legs between them.
_SPOTS = [("SV", 13.6929, -89.2182), ("CO", 4.7110, -74.0721), ("MX", 19.4326, -99.1332),
          ("SV", 13.4833, -88.1833), ("CO", 6.2442, -75.5812), ("MX", 20.6767, -103.3475)]


def hostile_rows(payloads: list[tuple[str, str]] = PAYLOADS) -> list[dict[str, str]]:
    """One valid event per payload, that payload in every text field (with a field prefix)."""
    rows = []
    for n, (name, text) in enumerate(payloads):
        country, lat, lon = _SPOTS[n % len(_SPOTS)]
        row = {"id": f"h-{n:02d}-{name}", "date": f"2025-03-{1 + n % 28:02d}",
               "country": country, "lat": f"{lat + n / 1000:.4f}", "lon": f"{lon:.4f}",
               "source_url": "https://example.org/source", "date_basis": "stated"}
        for field in TEXT_FIELDS:
            row[field] = text
        # Participants are ';'-separated: one that is the payload, one with a role.
        row["participants"] = f"{text}; Someone ({text})"
        rows.append(row)
    # source_url: the hostile ones are refused by the schema; these are http(s) and valid.
    rows[0]["source_url"] = "https://example.org/a?b=<script>&c=\"'`"
    return rows


def hostile_csv(payloads: list[tuple[str, str]] = PAYLOADS) -> bytes:
    """The hostile events as a CSV file."""
    rows = hostile_rows(payloads)
    columns = list(dict.fromkeys(k for r in rows for k in r))
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")
