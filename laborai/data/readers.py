"""Readers for the canonical tables: CSV, Parquet, DuckDB tables/queries or DataFrames.

Every row read is either kept or reported: by default any invalid row raises
:class:`~laborai.errors.DataValidationError` naming the source, column, rule, number of rows and
the first offending values; with ``on_invalid="quarantine"`` the valid rows are returned together
with a table of the rejected rows, each with its reason, and ``n_read == len(data) +
len(rejected)`` always holds.

Real exports are read through a column mapping (``mapping=``): a ready, versioned one for
Upwork's January 2023 job-search export (``mapping="upwork_2023"``) or your own
:class:`ColumnMapping`. The physical records of a CSV file are counted as the strict standard
``csv`` module counts them (delimiter detected, strict quoting), so that the number of records
read is the number of physical records in the file and a stray quote that would merge records is
reported with its line instead of silently losing rows. See ``docs/readers.md``.

Speed (issue 16): a well-quoted file (quotes only open or close fields, no carriage returns) is
counted in numpy from the byte positions of quotes, line breaks and delimiters, any other file
record by record with the ``csv`` module; each check runs once per distinct value of a column
(codes mapped back to the rows), Arrow text is checked in pyarrow, and reasons are written for
the rejected rows only. Outputs are identical to the record-by-record implementation
(``benchmarks/readers_speed.py`` checks it on 1M posts).
"""

from __future__ import annotations

import bz2
import codecs
import csv
import datetime as _dt
import functools
import gzip
import io
import lzma
import math
import re
import tomllib
import unicodedata
import warnings
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any, Literal, overload

import numpy as np
import pandas as pd

from laborai import taxonomy
from laborai._validation import check_option
from laborai.data.schema import (
    CONTRACT_COLUMNS,
    DURATIONS,
    ENGAGEMENTS,
    JOB_POST_COLUMNS,
    ColumnSpec,
)
from laborai.errors import (
    DataFileNotFoundError,
    DataValidationError,
    OptionError,
    QuarantineWarning,
    SourceTypeError,
)

__all__ = [
    "COUNTRY_OVERRIDES",
    "DEFAULT_DATE_RANGE",
    "DEFAULT_WARN_SHARE",
    "ColumnMapping",
    "QuarantineWarning",
    "ReadResult",
    "SourceTypeError",
    "ValueAssumptions",
    "available_mappings",
    "country_code",
    "load_mapping",
    "parse_money",
    "read_contracts",
    "read_job_posts",
]

OnInvalid = Literal["raise", "quarantine"]
DEFAULT_DATE_RANGE: tuple[str, str] = ("2000-01-01", "2035-12-31")
#: Quarantine warns when it rejects more than this share of the rows read (exact duplicate
#: records excepted: they lose no information).
DEFAULT_WARN_SHARE: float = 0.01
_N_SHOW = 5
_SURROGATE = re.compile("[\udc80-\udcff]")
_DELIMITERS = (",", ";", "\t", "|")




RULE_TEXT: dict[str, str] = {
    "id_present": "the id must be non-empty",
    "id_unique": "ids must be unique (later duplicates are rejected, the first kept)",
    "duplicate_record": "an exact copy of an earlier record (every column identical); the first "
                        "copy is kept",
    "date_parses": "dates must parse as ISO 8601 dates or timestamps (YYYY-MM-DD, optional time "
                   "and 'Z' or UTC offset) or match the stated date_format",
    "date_in_range": "dates must lie in the plausible range",
    "category_known": "categories must be one of the 12 taxonomy categories",
    "subcategory_known": "subcategories must belong to the row's category in the taxonomy",
    "text_decodes": "text must decode as UTF-8 (or as the stated encoding=, e.g. 'cp1252')",
    "allowed_value": "the value must be one of the allowed choices",
    "money_valid": "money must be a finite number >= 0 (currency sign and thousands separators "
                   "allowed)",
    "currency_usd": "amounts must be in US dollars ('$', 'US$', 'USD' or no currency sign)",
    "country_code": "countries must be assigned ISO 3166-1 alpha-2 codes (e.g. 'US')",
    "country_known": "countries must be ISO 3166-1 alpha-2 codes or names of current countries "
                     "known to pycountry or the override table",
    "value_consistent": "a no_budget post must not carry a budget, rate or contract value",
    "end_after_start": "end_date must not be before start_date",
    "post_exists": "the contract's post_id must exist in the job posts",
}

#: Rules that lose no information when they reject a row (not counted for the warning share).
_LOSSLESS_RULES = frozenset({"duplicate_record"})


# ----------------------------------------------------------------------------- results


@dataclass(frozen=True)
class ReadResult:
    """Result of a read with ``on_invalid="quarantine"``.

    Unpacks as ``data, rejected = la.read_job_posts(path, on_invalid="quarantine")``.

    Attributes
    ----------
    data : pandas.DataFrame
        The valid rows, coerced to the canonical types.
    rejected : pandas.DataFrame
        One row per rejected input row: ``row`` (1-based record number in the source), for CSV
        files ``line`` (the physical line the record starts on, header = line 1), ``rule`` and
        ``column`` of the first rule it broke, ``reason`` (every rule it broke), then the row's
        original values as ``value_<source column>``.
    n_read : int
        Number of rows read from the source (``len(data) + len(rejected)``); for CSV files the
        number of physical records after the header.
    source : str
        Description of the source (file path, table or query).
    rules : mapping of str to int
        Number of rows failing each rule (a row may fail several).
    n_lines : int or None
        Physical lines of a CSV file, header and blank lines included (None for other sources).
    mapping : str
        ``"<name> v<version>"`` of the column mapping used ("" for none).
    settings : mapping
        The settings of the read: mapping, date_range, date_format, decimal, the delimiter used
        (detected or stated), encoding, warn_share, value assumptions and taxonomy version.
    """

    data: pd.DataFrame
    rejected: pd.DataFrame
    n_read: int
    source: str
    rules: Mapping[str, int] = field(default_factory=dict)
    n_lines: int | None = None
    mapping: str = ""
    settings: Mapping[str, Any] = field(default_factory=dict)

    def __iter__(self) -> Iterator[pd.DataFrame]:
        yield self.data
        yield self.rejected

    def __repr__(self) -> str:
        return (f"ReadResult(source={self.source!r}, n_read={self.n_read}, "
                f"kept={len(self.data)}, rejected={len(self.rejected)})")

    def summary(self) -> pd.DataFrame:
        """Rows read, kept and rejected by rule (first rule broken), as a small table.

        Returns
        -------
        pandas.DataFrame
            Columns ``outcome, rule, rows``: one ``read`` row, one ``kept`` row and one
            ``rejected`` row per rule.
        """
        rows = [("read", "", self.n_read), ("kept", "", len(self.data))]
        if len(self.rejected):
            for rule, n in self.rejected["rule"].value_counts().sort_index().items():
                rows.append(("rejected", str(rule), int(n)))
        return pd.DataFrame(rows, columns=["outcome", "rule", "rows"])


# ----------------------------------------------------------------------------- mappings


@dataclass(frozen=True)
class ColumnMapping:
    """How an export's columns and values translate to a canonical table.

    Parameters
    ----------
    columns : mapping of str to str
        Export column -> canonical column, e.g. ``{"uid": "post_id"}``. Export columns not
        named are kept as read.
    values : mapping of str to mapping of str to str, optional
        Per canonical column, export value -> canonical value, e.g.
        ``{"budget_type": {"fixed_budget": "fixed"}}``. Matched ignoring case and runs of
        white space; values not listed pass through unchanged (and are then validated).
    transforms : mapping of str to str, optional
        Per canonical column, a transform applied after ``values``: ``"country_name"`` (country
        names or alpha-2 codes to ISO 3166-1 alpha-2 via pycountry, see :func:`country_code`),
        ``"epoch_s"`` / ``"epoch_ms"`` (Unix time stamps to UTC dates).
    date_format : str or mapping of str to str, optional
        A ``strftime`` format for every date column, or per canonical date column.
    decimal : {".", ","}, default "."
        Decimal mark of money strings.
    name, version, description : str
        Identification of a ready mapping (recorded in :attr:`ReadResult.mapping`).
    """

    columns: Mapping[str, str] = field(default_factory=dict)
    values: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    transforms: Mapping[str, str] = field(default_factory=dict)
    date_format: str | Mapping[str, str] | None = None
    decimal: Literal[".", ","] = "."
    name: str = ""
    version: str = ""
    description: str = ""

    @property
    def label(self) -> str:
        """``"<name> v<version>"`` (or ``"custom"`` for an unnamed mapping)."""
        if not self.name:
            return "custom"
        return f"{self.name} v{self.version}" if self.version else self.name


_TRANSFORMS = ("country_name", "epoch_s", "epoch_ms")
_MAPPING_PREFIX = "mapping_"


def available_mappings() -> list[str]:
    """Return the names of the ready column mappings shipped with laborai.

    Returns
    -------
    list of str
        E.g. ``["upwork_2023"]``.
    """
    root = resources.files("laborai").joinpath("_pkgdata")
    names = [p.name[len(_MAPPING_PREFIX):-len(".toml")] for p in root.iterdir()
             if p.name.startswith(_MAPPING_PREFIX) and p.name.endswith(".toml")]
    return sorted(names)


@functools.cache
def _load_mapping_cached(name: str) -> ColumnMapping:
    text = (resources.files("laborai").joinpath(f"_pkgdata/{_MAPPING_PREFIX}{name}.toml")
            .read_text("utf-8"))
    raw = tomllib.loads(text)
    return ColumnMapping(
        columns=dict(raw.get("columns", {})),
        values={k: dict(v) for k, v in raw.get("values", {}).items()},
        transforms=dict(raw.get("transforms", {})),
        date_format=raw.get("date_format"),
        decimal=raw.get("decimal", "."),
        name=str(raw.get("name", name)),
        version=str(raw.get("version", "")),
        description=str(raw.get("description", "")),
    )


def load_mapping(name: str) -> ColumnMapping:
    """Return a ready column mapping by name.

    Parameters
    ----------
    name : str
        One of :func:`available_mappings`, e.g. ``"upwork_2023"``.

    Returns
    -------
    ColumnMapping

    Raises
    ------
    OptionError
        For an unknown name.

    Examples
    --------
    >>> from laborai.data.readers import load_mapping
    >>> m = load_mapping("upwork_2023")
    >>> m.columns["published_on"], m.label
    ('posted_date', 'upwork_2023 v1')
    """
    names = available_mappings()
    if name not in names:
        raise OptionError(f"mapping must be one of {', '.join(map(repr, names))} or a "
                          f"ColumnMapping / dict of export column -> canonical column; got "
                          f"{name!r}.")
    return _load_mapping_cached(name)


def _resolve_mapping(mapping: str | ColumnMapping | Mapping[str, str] | None,
                     specs: tuple[ColumnSpec, ...]) -> ColumnMapping:
    if mapping is None:
        m = ColumnMapping()
    elif isinstance(mapping, str):
        m = load_mapping(mapping)
    elif isinstance(mapping, ColumnMapping):
        m = mapping
    elif isinstance(mapping, Mapping):
        m = ColumnMapping(columns=dict(mapping))
    else:
        raise OptionError("mapping must be a ready mapping's name (see "
                          "laborai.data.readers.available_mappings()), a ColumnMapping or a dict "
                          f"of export column -> canonical column; got {type(mapping).__name__}.")
    canonical = {s.name for s in specs if s.kind != "derived"}
    targets = list(m.columns.values())
    unknown = [t for t in targets if t not in canonical]
    if unknown:
        raise OptionError(f"mapping {m.label}: unknown canonical column(s) "
                          f"{', '.join(map(repr, unknown))}; allowed: "
                          f"{', '.join(map(repr, sorted(canonical)))}.")
    dup = sorted({t for t in targets if targets.count(t) > 1})
    if dup:
        raise OptionError(f"mapping {m.label}: several export columns map to "
                          f"{', '.join(map(repr, dup))}; map exactly one export column to each "
                          "canonical column.")
    for col, tr in m.transforms.items():
        if tr not in _TRANSFORMS:
            raise OptionError(f"mapping {m.label}: transform of {col!r} must be one of "
                              f"{', '.join(map(repr, _TRANSFORMS))}; got {tr!r}.")
    check_option("decimal", m.decimal, (".", ","))
    return m


def _apply_mapping(raw: pd.DataFrame, m: ColumnMapping, specs: tuple[ColumnSpec, ...],
                   source: str) -> pd.DataFrame:
    """Rename export columns to canonical names (the values stay as read)."""
    present = {c: t for c, t in m.columns.items() if c in raw.columns}
    clash = [t for c, t in present.items() if t in raw.columns and t != c and t not in present]
    if clash:
        raise DataValidationError(
            f"{source}: rule 'column_conflict': column(s) {', '.join(map(repr, clash))} exist in "
            "the source and are also the target of the mapping "
            f"{m.label}; drop or rename one of them.")
    required = {s.name for s in specs if s.required}
    missing = [f"{c!r} (mapped to {t!r})" for c, t in m.columns.items()
               if c not in raw.columns and t in required and t not in raw.columns]
    if missing:
        raise DataValidationError(
            f"{source}: rule 'required_columns': export column(s) {', '.join(missing)} of mapping "
            f"{m.label} are missing in all {len(raw)} rows; columns present: "
            f"{', '.join(map(repr, map(str, raw.columns)))}.")
    return raw.rename(columns=present)


# ----------------------------------------------------------------------------- value tiers

#: Weekly hours (by engagement) and weeks (by duration) used when the taxonomy's package data
#: does not state them; the same numbers as ``taxonomy.toml``'s ``[hourly_projection]``.
_FALLBACK_HOURS: dict[str, float] = {
    "Less than 30 hrs/week": 15.0, "30+ hrs/week": 35.0, "Hours to be determined": 15.0,
    "not_sure": 15.0, "": 15.0,
}
_FALLBACK_WEEKS: dict[str, float] = {
    "Less than 1 month": 2.1667, "1 to 3 months": 8.6667, "3 to 6 months": 19.5,
    "More than 6 months": 26.0,
}


def _taxonomy_projection() -> tuple[dict[str, float], dict[str, float]]:
    """The package's projection assumptions (one source: ``taxonomy.hourly_projection``)."""
    get = getattr(taxonomy, "hourly_projection", None)
    if get is None:
        return dict(_FALLBACK_HOURS), dict(_FALLBACK_WEEKS)
    p = get()
    hours = {k: float(v) for k, v in p["hours_per_week"].items()}
    hours.setdefault("", float(p.get("default_hours_per_week", 15.0)))
    return hours, {k: float(v) for k, v in p["weeks"].items()}


@dataclass(frozen=True)
class ValueAssumptions:
    """Assumptions that project the contract value of an hourly post.

    ``contract_value_usd = hourly_rate_usd * hours_per_week[engagement] * weeks[duration]``,
    rounded to cents.

    Parameters
    ----------
    hours_per_week : mapping of str to float, optional
        Expected hours per week by ``engagement`` label, with ``""`` for a post that states
        none. Default (from ``taxonomy.toml``, :func:`laborai.taxonomy.hourly_projection`):
        "Less than 30 hrs/week" 15 (the middle of 0-30), "30+ hrs/week" 35 (the middle of
        30-40), "Hours to be determined", "not_sure" and "" 15 (as the modal answer).
    weeks : mapping of str to float, optional
        Expected weeks of work by ``duration`` label. Default: the middle of each band in
        months times 52/12: "Less than 1 month" 2.17, "1 to 3 months" 8.67, "3 to 6 months"
        19.5, "More than 6 months" 26 (six months: the open band is not extrapolated). An
        hourly post with no duration gets no projection (``value_basis="none"``).

    Notes
    -----
    These are assumptions, not data: a projected value is what the post would be worth if the
    work ran as posted. Override any of them, e.g.
    ``ValueAssumptions().with_hours(**{"30+ hrs/week": 40})`` or
    ``value_assumptions={"weeks": {"More than 6 months": 52}}``.
    """

    hours_per_week: Mapping[str, float] = field(
        default_factory=lambda: _taxonomy_projection()[0])
    weeks: Mapping[str, float] = field(default_factory=lambda: _taxonomy_projection()[1])

    def with_hours(self, **hours: float) -> ValueAssumptions:
        """Return a copy with some weekly hours replaced (by engagement label)."""
        return replace(self, hours_per_week={**self.hours_per_week, **hours}).validated()

    def with_weeks(self, **weeks: float) -> ValueAssumptions:
        """Return a copy with some durations replaced (weeks, by duration label)."""
        return replace(self, weeks={**self.weeks, **weeks}).validated()

    def validated(self) -> ValueAssumptions:
        """Check every label is present with a finite positive number; return self.

        Raises
        ------
        OptionError
            For a missing or unknown label or a value that is not a finite positive number.
        """
        for what, table, labels in (("hours_per_week", self.hours_per_week, (*ENGAGEMENTS, "")),
                                    ("weeks", self.weeks, DURATIONS)):
            extra = [k for k in table if k not in labels]
            lacking = [k for k in labels if k not in table]
            bad = {k: v for k, v in table.items()
                   if isinstance(v, bool) or not isinstance(v, (int, float))
                   or not math.isfinite(v) or v <= 0}
            if extra or lacking or bad:
                raise OptionError(
                    f"value_assumptions {what} must give a finite positive number for each of "
                    f"{', '.join(map(repr, labels))}; unknown: {extra}, missing: {lacking}, "
                    f"invalid: {bad}.")
        return self


def _resolve_assumptions(a: ValueAssumptions | Mapping[str, Mapping[str, float]] | None
                         ) -> ValueAssumptions:
    if a is None:
        return ValueAssumptions().validated()
    if isinstance(a, ValueAssumptions):
        return a.validated()
    if isinstance(a, Mapping):
        extra = [k for k in a if k not in ("hours_per_week", "weeks")]
        if extra:
            raise OptionError("value_assumptions keys must be 'hours_per_week' and/or 'weeks'; "
                              f"got {extra}.")
        base = ValueAssumptions()
        return ValueAssumptions(
            hours_per_week={**base.hours_per_week, **dict(a.get("hours_per_week", {}))},
            weeks={**base.weeks, **dict(a.get("weeks", {}))},
        ).validated()
    raise OptionError("value_assumptions must be a ValueAssumptions, a dict with "
                      f"'hours_per_week'/'weeks', or None; got {type(a).__name__}.")


# ----------------------------------------------------------------------------- countries

#: Marketplace spellings of current countries that pycountry's names do not match, with their
#: ISO 3166-1 alpha-2 code. Matching ignores case, accents and spacing, so "Cote d'Ivoire" and
#: "Reunion" need no entry. "Kosovo" takes the user-assigned code XK used by the EU and by
#: marketplaces.
COUNTRY_OVERRIDES: dict[str, str] = {
    "Brunei": "BN",
    "Burma": "MM",
    "Cape Verde": "CV",
    "Democratic Republic of the Congo": "CD",
    "East Timor": "TL",
    "Falkland Islands": "FK",
    "Great Britain": "GB",
    "Holy See": "VA",
    "Ivory Coast": "CI",
    "Kosovo": "XK",
    "Macau": "MO",
    "Macedonia": "MK",
    "Micronesia": "FM",
    "Palestine": "PS",
    "Palestinian Territories": "PS",
    "Pitcairn Islands": "PN",
    "Russia": "RU",
    "Saint Helena": "SH",
    "Sint Maarten": "SX",
    "St. Lucia": "LC",
    "Swaziland": "SZ",
    "The Bahamas": "BS",
    "The Gambia": "GM",
    "Turkey": "TR",
    "U.S. Virgin Islands": "VI",
    "United States Virgin Islands": "VI",
    "Vatican": "VA",
}


def _country_key(name: str) -> str:
    s = unicodedata.normalize("NFKD", name)
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    s = s.replace("\u2019", "'").replace("\u2018", "'").casefold()
    return re.sub(r"\s+", " ", s).strip()


@functools.cache
def _country_tables() -> tuple[frozenset[str], dict[str, str], dict[str, str]]:
    """(assigned alpha-2 codes, name key -> code, former-country key -> note)."""
    import pycountry

    codes = {c.alpha_2 for c in pycountry.countries} | {"XK"}
    names: dict[str, str] = {}
    for c in pycountry.countries:
        for attr in ("name", "common_name", "official_name"):
            v = getattr(c, attr, None)
            if v:
                names[_country_key(v)] = c.alpha_2
    for k, v in COUNTRY_OVERRIDES.items():
        names[_country_key(k)] = v
    former: dict[str, str] = {}
    for h in pycountry.historic_countries:
        key = _country_key(h.name)
        if key not in names:
            when = getattr(h, "withdrawal_date", "")
            former[key] = (f"a former country (ISO 3166-3 {h.alpha_3}, withdrawn {when}) with no "
                           "current code; recode it with the mapping's values if you know the "
                           "successor")
    return frozenset(codes), names, former


def country_code(name: str) -> str | None:
    """ISO 3166-1 alpha-2 code of a country name or code, or None when unknown.

    Names are matched ignoring case, accents and spacing against pycountry's name, common name
    and official name of every current country and against :data:`COUNTRY_OVERRIDES`; an
    alpha-2 code is returned unchanged when assigned. Nothing is guessed (no fuzzy matching).

    Parameters
    ----------
    name : str
        E.g. ``"United States"``, ``"Cote d'Ivoire"`` or ``"US"``.

    Returns
    -------
    str or None

    Examples
    --------
    >>> from laborai.data.readers import country_code
    >>> country_code("United States"), country_code("Turkey"), country_code("Atlantis")
    ('US', 'TR', None)
    """
    codes, names, _ = _country_tables()
    s = name.strip()
    if len(s) == 2 and s.upper() == s and s in codes:
        return s
    return names.get(_country_key(s))


# ----------------------------------------------------------------------------- money

_CURRENCY_SIGNS = set("€£¥₹₽₩₺₪₫₱฿¢₦₴₡₲₵₸₼₾") | {"kr", "zł", "lei", "fr", "chf", "r$", "a$",
                                                  "c$", "ca$", "au$", "hk$", "nz$", "s$"}
_USD_MARKS = {"", "$", "us$", "usd", "u$s"}
_NUM_DOT = re.compile(r"(?:\d{1,3}(?:(?P<s>[,\u00a0\u202f ])\d{3})(?:(?P=s)\d{3})*|\d+)(?:\.\d*)?"
                      r"|\.\d+|\d+(?:\.\d*)?[eE][+-]?\d+")
_NUM_COMMA = re.compile(r"(?:\d{1,3}(?:(?P<s>[.\u00a0\u202f ])\d{3})(?:(?P=s)\d{3})*|\d+)(?:,\d*)?"
                        r"|,\d+")
_SPLIT_MONEY = re.compile(r"^(?P<pre>[^\d.,+\-]*?)\s*(?P<sign>[+\-]?)\s*(?P<pre2>[^\d.,+\-]*?)\s*"
                          r"(?P<num>[\d.,\u00a0\u202f ]*[\d](?:[eE][+\-]?\d+)?[\d.,]*|[.,]\d+)"
                          r"\s*(?P<suf>[^\d]*?)$")


def parse_money(value: Any, decimal: Literal[".", ","] = ".") -> tuple[float | None, str | None]:
    """Parse one money value in US dollars.

    Parameters
    ----------
    value : str, number or None
        E.g. ``1500``, ``"1500.5"``, ``"$1,500.00"``, ``"USD 1 500"``; with ``decimal=","``
        also ``"1.500,00"`` or ``"1 500,00 $"``.
    decimal : {".", ","}, default "."
        Decimal mark. With ``"."`` the thousands separator is ``,`` or a space; with ``","`` it
        is ``.`` or a space. Groups must have three digits, so ``"1,50"`` is refused rather than
        guessed.

    Returns
    -------
    (float or None, str or None)
        The amount (None when missing or invalid) and the broken rule (``"money_valid"``,
        ``"currency_usd"``) or None.

    Examples
    --------
    >>> from laborai.data.readers import parse_money
    >>> parse_money("$1,500.00"), parse_money("1.500,00", decimal=","), parse_money("€ 5")
    ((1500.0, None), (1500.0, None), (None, 'currency_usd'))
    """
    if value is None or value is pd.NA:
        return None, None
    if isinstance(value, (bool, np.bool_)):
        return None, "money_valid"
    if isinstance(value, (int, float, np.integer, np.floating)):
        v = float(value)
        if math.isnan(v):
            return None, None
        return (v, None) if math.isfinite(v) and v >= 0 else (None, "money_valid")
    s = str(value).strip()
    if not s:
        return None, None
    m = _SPLIT_MONEY.match(s)
    if m is None:
        return None, "money_valid"
    cur = (m.group("pre") + m.group("pre2") + m.group("suf")).strip().casefold().replace(" ", "")
    if cur not in _USD_MARKS:
        if cur in _CURRENCY_SIGNS or re.fullmatch(r"[a-z]{3}", cur) and cur not in ("inf", "nan"):
            return None, "currency_usd"
        return None, "money_valid"
    num = m.group("num").strip()
    pattern = _NUM_DOT if decimal == "." else _NUM_COMMA
    if not pattern.fullmatch(num):
        return None, "money_valid"
    if decimal == ".":
        clean = re.sub(r"[,\u00a0\u202f ]", "", num)
    else:
        clean = re.sub(r"[.\u00a0\u202f ]", "", num).replace(",", ".")
    try:
        v = float(clean)
    except ValueError:
        return None, "money_valid"
    if m.group("sign") == "-" and v != 0:
        return None, "money_valid"
    return (v, None) if math.isfinite(v) else (None, "money_valid")


# ----------------------------------------------------------------------------- loading


@dataclass(frozen=True)
class _Loaded:
    df: pd.DataFrame
    source: str
    n_lines: int | None = None
    lines: np.ndarray | None = None  # physical start line of each record (CSV)
    delimiter: str | None = None


def _read_bytes(path: Path, name: str) -> tuple[bytes, str]:
    """Bytes of a (possibly compressed) file and the suffix of the inner file."""
    suffixes = [s.lower() for s in path.suffixes]
    outer = suffixes[-1] if suffixes else ""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataValidationError(f"{name}: rule 'file_readable': the file cannot be read "
                                  f"({exc.strerror or exc}).") from exc
    inner = suffixes[-2] if len(suffixes) >= 2 else ""
    try:
        if outer == ".gz":
            return gzip.decompress(data), inner
        if outer == ".bz2":
            return bz2.decompress(data), inner
        if outer == ".xz":
            return lzma.decompress(data), inner
        if outer == ".zip":
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                members = [i for i in z.infolist() if not i.is_dir()
                           and not i.filename.startswith("__MACOSX/")]
                if len(members) != 1:
                    raise DataValidationError(
                        f"{name}: rule 'file_readable': the ZIP archive must hold exactly one "
                        f"file; it holds {len(members)}: "
                        f"{', '.join(repr(i.filename) for i in members[:_N_SHOW])}.")
                member = members[0]
                return z.read(member), Path(member.filename).suffix.lower() or inner
    except DataValidationError:
        raise
    except (OSError, EOFError, zipfile.BadZipFile, lzma.LZMAError, ValueError,
            NotImplementedError, RuntimeError) as exc:
        raise DataValidationError(
            f"{name}: rule 'file_readable': not a valid {outer[1:]} archive ({exc}).") from exc
    return data, outer


_MAGIC = ((b"PK\x03\x04", "a ZIP archive (name it .csv.zip)"),
          (b"\x1f\x8b", "a gzip file (name it .csv.gz)"),
          (b"PAR1", "a Parquet file (name it .parquet)"),
          (b"\x89PNG", "a PNG image"), (b"%PDF", "a PDF document"),
          (b"\xd0\xcf\x11\xe0", "an old Excel/Office file (export it as CSV)"))


def _decode(data: bytes, encoding: str, name: str) -> str:
    if not data.strip():
        raise DataValidationError(f"{name}: rule 'not_empty': the file is empty "
                                  f"({len(data)} bytes); expected a header line and data rows.")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise DataValidationError(f"{name}: rule 'text_decodes': the file starts with a "
                                      f"UTF-16 byte-order mark but does not decode ({exc}).") from exc
    for magic, what in _MAGIC:
        if data.startswith(magic):
            raise DataValidationError(f"{name}: rule 'csv_text': the file is {what}, not CSV "
                                      "text.")
    nul = data.find(b"\x00")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        raise DataValidationError(
            f"{name}: rule 'csv_text': the file holds NUL bytes (first at byte {nul}, line "
            f"{line}); it is binary or in an encoding other than {encoding!r}, not CSV text. "
            "Pass encoding= if it is text in another encoding.")
    try:
        is_utf8 = codecs.lookup(encoding).name == "utf-8"
        if data.startswith(b"\xef\xbb\xbf") and is_utf8:
            data = data[3:]
        text = data.decode(encoding, errors="surrogateescape")
    except LookupError as exc:
        raise OptionError(f"encoding must be a Python codec name, e.g. 'utf-8' or 'cp1252'; got "
                          f"{encoding!r}.") from exc
    except UnicodeDecodeError as exc:  # codecs without surrogateescape support
        raise DataValidationError(f"{name}: rule 'text_decodes': the file does not decode as "
                                  f"{encoding!r} ({exc}).") from exc
    return text


def _sniff_delimiter(text: str) -> str:
    """The candidate delimiter giving a consistent number (> 1) of fields in the first lines."""
    sample = text[:65536]
    truncated = len(text) > len(sample)
    best, best_score = ",", (-1, -1)
    for d in _DELIMITERS:
        try:
            rows = [r for r in csv.reader(io.StringIO(sample, newline=""), delimiter=d) if r]
        except csv.Error:
            continue
        if truncated and len(rows) > 1:
            rows = rows[:-1]  # the sample may end inside a record
        rows = rows[:50]
        if not rows:
            continue
        width = len(rows[0])
        consistent = sum(len(r) == width for r in rows)
        score = (int(width > 1 and consistent == len(rows)), width)
        if score > best_score:
            best, best_score = d, score
    return best


def _parse_csv(text: str, delimiter: str | None, name: str) -> _Loaded:
    """Parse CSV text, checking the structure of every physical record.

    A first pass counts the records, finds the line each starts on, checks that each has the
    header's number of fields and that no quoted field spans lines that look like whole records
    (a stray quote): in numpy for a well-quoted file (:func:`_structure_fast`), else with the
    strict ``csv`` module (:func:`_structure_checked`). The values are then parsed by pandas' C
    parser, and both must agree on the number of records.
    """
    delim = delimiter or _sniff_delimiter(text)
    data = text.encode("utf-8", errors="surrogateescape")
    fast = _structure_fast(data, delim) if "\r" not in text else None
    if fast is not None:
        header, header_line, starts, n_lines = fast
        _check_header(header, name, f" (header on line {header_line})")
    else:
        header, header_line, starts, n_lines = _structure_checked(text, delim, name)
    try:
        df = pd.read_csv(
            io.BytesIO(data), sep=delim,
            dtype=object, keep_default_na=False, na_values=[""], encoding="utf-8",
            encoding_errors="surrogateescape", skip_blank_lines=True, engine="c",
            quotechar='"', doublequote=True, header=0,
        )
    except (pd.errors.ParserError, ValueError, UnicodeError) as exc:
        raise DataValidationError(f"{name}: rule 'csv_structure': the file is not a well-formed "
                                  f"CSV ({exc}).") from exc
    if len(df) != len(starts) or df.shape[1] != len(header):
        raise DataValidationError(
            f"{name}: rule 'csv_structure': the file's {len(starts)} physical records parse as "
            f"{len(df)} rows of {df.shape[1]} columns; check quoting and blank or "
            "white-space-only lines.")
    df.columns = header
    return _Loaded(df, name, n_lines, starts, delim)


def _structure_checked(text: str, delim: str, name: str
                       ) -> tuple[list[str], int, np.ndarray, int]:
    """The record structure, by the strict ``csv`` module record by record (any CSV text).

    Returns the header, its line, the start line of every data record and the number of
    lines; raises DataValidationError on a malformed file.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim, strict=True)
    header: list[str] | None = None
    header_line = 0
    starts: list[int] = []
    bad_width: list[tuple[int, int]] = []
    merged: list[tuple[int, int]] = []
    threshold = 3
    prev = 0
    try:
        for rec in reader:
            start = prev + 1
            prev = reader.line_num
            if not rec or (len(rec) == 1 and rec[0] == ""):
                continue  # blank line
            if header is None:
                header, header_line = [h.strip() for h in rec], start
                threshold = max(3, (len(header) - 1) // 2)
                continue
            if len(rec) != len(header):
                bad_width.append((start, len(rec)))
            elif prev > start:  # the record spans lines: quoted line breaks
                j = _merged_field(rec, delim, threshold)
                if j >= 0:
                    merged.append((start, j))
            starts.append(start)
    except csv.Error as exc:
        raise DataValidationError(
            f"{name}: rule 'csv_structure': malformed CSV at line {reader.line_num} ({exc}); "
            f"{len(starts)} records were read before it. A quote that opens a field must close "
            "it and be followed by the delimiter: check quoting near that line (a stray quote "
            "merges the following records into one)."
        ) from exc
    n_lines = reader.line_num
    if header is None:
        raise DataValidationError(f"{name}: rule 'not_empty': the file holds no header line.")
    _check_header(header, name, f" (header on line {header_line})")
    if not starts:
        raise DataValidationError(
            f"{name}: rule 'not_empty': the file has a header ({len(header)} columns) but no "
            "data records.")
    if bad_width:
        shown = ", ".join(f"line {ln} ({w} fields)" for ln, w in bad_width[:_N_SHOW])
        raise DataValidationError(
            f"{name}: rule 'csv_structure': {len(bad_width)} record(s) do not have the header's "
            f"{len(header)} fields (delimiter {delim!r}); first: {shown}. A stray quote merges "
            "records, a missing or extra delimiter shifts fields: fix the lines named."
        )
    if merged:
        shown = ", ".join(f"line {ln} (column {header[j]!r})" for ln, j in merged[:_N_SHOW])
        raise DataValidationError(
            f"{name}: rule 'csv_structure': {len(merged)} quoted field(s) span several lines "
            f"that each hold {threshold}+ delimiters, as whole records do: a stray quote has "
            f"merged records; first: {shown}. Fix the quoting of the field named."
        )
    return header, header_line, np.asarray(starts, dtype=np.int64), n_lines


def _structure_fast(data: bytes, delim: str) -> tuple[list[str], int, np.ndarray, int] | None:
    """:func:`_structure_checked` in numpy for well-quoted files; None for any other file.

    Applies when every quote opens a field (at its start) or closes one (before a delimiter, a
    line break or the end), doubled quotes aside, and there is no carriage return: then a
    line break or delimiter is structural exactly when an even number of quotes precedes it,
    as the ``csv`` module parses it. Records that span lines (quoted line breaks) are parsed
    with the ``csv`` module to look for merged records. Anything irregular (a stray quote, a
    record of the wrong width, a field longer than the csv module's limit, no data) returns
    None, and the record-by-record pass finds and reports it.
    """
    b = np.frombuffer(data, dtype=np.uint8)
    n = b.size
    if n == 0 or not delim.isascii() or delim in '"\n\r' or b"\r" in data:
        return None
    dq, nl, dl = ord('"'), ord("\n"), ord(delim)
    quotes = np.flatnonzero(b == dq)
    if quotes.size % 2:
        return None
    if quotes.size:
        opens, closes = quotes[0::2], quotes[1::2]
        prev = np.where(opens > 0, b[np.maximum(opens - 1, 0)], nl)
        after_close = np.zeros(opens.size, dtype=bool)  # a doubled quote: "" inside a field
        after_close[1:] = opens[1:] == closes[:-1] + 1
        if not np.all((prev == nl) | (prev == dl) | after_close):
            return None
        nxt = np.where(closes + 1 < n, b[np.minimum(closes + 1, n - 1)], nl)
        before_open = np.zeros(closes.size, dtype=bool)
        before_open[:-1] = opens[1:] == closes[:-1] + 1
        if not np.all((nxt == nl) | (nxt == dl) | before_open):
            return None
    nl_pos = np.flatnonzero(b == nl)
    term = nl_pos[np.searchsorted(quotes, nl_pos) % 2 == 0]  # line breaks ending records
    rec_start = np.concatenate([[0], term + 1])
    rec_end = np.concatenate([term, [n]])
    if rec_start[-1] >= n:  # the file ends with a line break: no record after it
        rec_start, rec_end = rec_start[:-1], rec_end[:-1]
    length = rec_end - rec_start
    if length.size and int(length.max()) > csv.field_size_limit():
        return None
    blank = (length == 0) | ((length == 2) & (b[np.minimum(rec_start, n - 1)] == dq))
    keep = np.flatnonzero(~blank)
    if keep.size < 2:
        return None
    # Delimiters per record, less those inside quoted fields (sums over byte ranges).
    d_pos = np.flatnonzero(b == dl)
    width = 1 + np.searchsorted(d_pos, rec_end) - np.searchsorted(d_pos, rec_start)
    if quotes.size:
        opens = quotes[0::2]
        inside = np.searchsorted(d_pos, quotes[1::2]) - np.searchsorted(d_pos, opens)
        rec_of = np.searchsorted(rec_start, opens, side="right") - 1
        width -= np.bincount(rec_of, weights=inside, minlength=width.size).astype(np.int64)
    line = 1 + np.searchsorted(nl_pos, rec_start)  # line each record starts on
    last_line = 1 + np.searchsorted(nl_pos, np.maximum(rec_end - 1, rec_start))
    h = int(keep[0])
    head_rec = next(csv.reader(io.StringIO(
        data[rec_start[h]:rec_end[h]].decode("utf-8", errors="surrogateescape"), newline=""),
        delimiter=delim, strict=True))
    header = [x.strip() for x in head_rec]
    body = keep[1:]
    if len(header) != int(width[h]) or np.any(width[body] != len(header)):
        return None
    threshold = max(3, (len(header) - 1) // 2)
    for r in body[last_line[body] > line[body]].tolist():  # quoted line breaks
        rec = next(csv.reader(io.StringIO(
            data[rec_start[r]:rec_end[r]].decode("utf-8", errors="surrogateescape"),
            newline=""), delimiter=delim, strict=True))
        if _merged_field(rec, delim, threshold) >= 0:
            return None
    n_lines = int(nl_pos.size) + (0 if b[-1] == nl else 1)
    return header, int(line[h]), line[body].astype(np.int64), n_lines


def _merged_field(rec: list[str], delim: str, threshold: int) -> int:
    """Index of a field whose lines each look like a record (``threshold``+ delimiters), or -1."""
    for j, value in enumerate(rec):
        if "\n" in value or "\r" in value:
            seg = value.replace("\r\n", "\n").replace("\r", "\n").split("\n")
            if any(s.count(delim) >= threshold for s in seg):
                return j
    return -1


def _check_header(columns: Any, name: str, where: str = "") -> None:
    if isinstance(columns, pd.MultiIndex):
        raise DataValidationError(
            f"{name}: rule 'column_names': the columns are a MultiIndex; flatten them to one "
            "name per column (e.g. df.columns = ['_'.join(map(str, c)) for c in df.columns]).")
    cols = [str(c) for c in columns]
    empty = [i + 1 for i, c in enumerate(cols) if c.strip() == ""]
    if empty:
        raise DataValidationError(
            f"{name}: rule 'column_names': column(s) number {', '.join(map(str, empty))} have "
            f"no name{where}; every column needs a unique name (a trailing delimiter on the "
            "header line adds a nameless column).")
    seen: dict[str, int] = {}
    for c in cols:
        seen[c] = seen.get(c, 0) + 1
    dup = [c for c, n in seen.items() if n > 1]
    if dup:
        raise DataValidationError(
            f"{name}: rule 'column_names': duplicate column name(s) "
            f"{', '.join(repr(c) for c in dup)}{where}; every column needs a unique name.")
    bad = [c for c in cols if _SURROGATE.search(c)]
    if bad:
        raise DataValidationError(
            f"{name}: rule 'text_decodes': the header does not decode as the stated encoding "
            f"(columns {', '.join(repr(c) for c in bad[:_N_SHOW])}); pass encoding=.")


def _duck_df(rel: Any, name: str) -> pd.DataFrame:
    """A DuckDB relation as a DataFrame, keeping dates beyond pandas' nanosecond range."""
    import duckdb

    try:
        reader = rel.arrow()
        table = reader.read_all() if hasattr(reader, "read_all") else reader
        return table.to_pandas()
    except (duckdb.Error, OSError) as exc:
        raise DataValidationError(f"{name}: rule 'file_readable': DuckDB cannot read it "
                                  f"({type(exc).__name__}: {exc}).") from exc
    except Exception as exc:  # pyarrow conversion errors
        raise DataValidationError(f"{name}: rule 'file_readable': the table cannot be converted "
                                  f"({type(exc).__name__}: {exc}).") from exc


def _load(source: Any, con: Any | None, delimiter: str | None, encoding: str) -> _Loaded:
    """Return the raw table and a description of where it came from."""
    import duckdb

    if isinstance(source, pd.DataFrame):
        _check_header(source.columns, "<DataFrame>")
        return _Loaded(source.reset_index(drop=True), "<DataFrame>")
    if isinstance(source, duckdb.DuckDBPyRelation):
        return _Loaded(_duck_df(source, "<DuckDB relation>"), "<DuckDB relation>")
    if con is not None and isinstance(source, str):
        is_query = source.lstrip().lower().startswith(("select", "with", "from"))
        desc = f"query {source!r}" if is_query else f"table {source!r}"
        try:
            rel = con.sql(source) if is_query else con.table(source)
        except duckdb.Error as exc:
            raise DataValidationError(f"{desc}: rule 'file_readable': DuckDB cannot run it "
                                      f"({type(exc).__name__}: {exc}).") from exc
        return _Loaded(_duck_df(rel, desc), desc)
    if not isinstance(source, (str, Path)):
        raise SourceTypeError(
            "source must be a path to a CSV or Parquet file, a pandas DataFrame, a DuckDB "
            f"relation, or a table name/query together with con=; got {type(source).__name__}."
        )
    path = Path(source)
    name = str(path)
    suffixes = "".join(path.suffixes).lower()
    if "*" not in name and not path.exists():
        raise DataFileNotFoundError(f"{name}: file not found.")
    if ".parquet" in suffixes or path.is_dir() or ("*" in name and name.endswith(".parquet")):
        pattern = str(path / "**" / "*.parquet") if path.is_dir() else name
        try:
            with duckdb.connect() as c:
                return _Loaded(_duck_df(c.read_parquet(pattern), name), name)
        except duckdb.Error as exc:
            raise DataValidationError(f"{name}: rule 'file_readable': not a readable Parquet "
                                      f"file or dataset ({type(exc).__name__}: {exc}).") from exc
    if any(s in suffixes for s in (".csv", ".txt", ".tsv")):
        data, inner = _read_bytes(path, name)
        text = _decode(data, encoding, name)
        delim = delimiter or ("\t" if inner == ".tsv" or suffixes.endswith(".tsv") else None)
        return _parse_csv(text, delim, name)
    raise DataValidationError(
        f"{name}: rule 'file_type': unsupported file type {suffixes or '(none)'!r}; use .csv, .tsv, .txt (optionally "
        ".gz, .bz2, .xz or .zip) or .parquet (or pass a DataFrame, a DuckDB relation, or a "
        "table/query with con=)."
    )


# ----------------------------------------------------------------------------- checks


@dataclass
class _Failures:
    """Accumulates (rule, column, mask, detail) failures for a table of n rows."""

    n: int
    items: list[tuple[str, str, np.ndarray, str]] = field(default_factory=list)
    #: Id columns known to hold n distinct, present values (no duplicate check needed).
    distinct: set[str] = field(default_factory=set)

    def add(self, rule: str, column: str, mask: np.ndarray | pd.Series, detail: str = "") -> None:
        m = np.asarray(mask, dtype=bool)
        if m.any():
            self.items.append((rule, column, m, detail))

    def any_mask(self) -> np.ndarray:
        out = np.zeros(self.n, dtype=bool)
        for _, _, m, _ in self.items:
            out |= m
        return out


def _is_missing(v: Any) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    return isinstance(v, (float, np.floating)) and math.isnan(v)


def _text_factor(col: pd.Series) -> tuple[np.ndarray, list[Any]] | None:
    """Codes (-1 = missing) and distinct values of a column of text, or None for other columns.

    Every check below works on the distinct values (a few dozen in most columns) and maps the
    answers back by code, instead of once per row. Columns holding anything but str and the
    missing markers of :func:`_is_missing` return None and take the per-value path.
    """
    if isinstance(col.dtype, pd.StringDtype):
        if _many_distinct(col):
            return _identity_factor(col.to_numpy(dtype=object, na_value=None))
        codes, uniq = pd.factorize(col, use_na_sentinel=True)
        return np.asarray(codes), list(np.asarray(uniq, dtype=object))
    if col.dtype != object:
        return None
    arr = col.to_numpy()
    if pd.api.types.infer_dtype(arr, skipna=True) not in ("string", "empty"):
        return None
    if _many_distinct(col):
        miss = np.asarray(pd.isna(arr), dtype=bool)
        if miss.any() and not _all_missing(arr[miss]):
            return None
        vals = arr.copy()
        vals[miss] = None
        return _identity_factor(vals)
    codes, uniq = pd.factorize(arr, use_na_sentinel=True)
    codes = np.asarray(codes)
    miss = np.flatnonzero(codes < 0)
    if miss.size and not _all_missing(arr[miss]):
        return None
    return codes, list(uniq)


_MISSING_TYPES = (type(None), float, np.float64, np.float32, np.float16, type(pd.NA),
                  type(pd.NaT))


def _all_missing(values: np.ndarray) -> bool:
    """Whether every value (all null to pandas) is a missing marker of :func:`_is_missing`."""
    if set(map(type, values.tolist())) <= set(_MISSING_TYPES):
        return True  # None, NA, NaT or a float that pandas calls null: NaN
    return all(_is_missing(v) for v in values.tolist())


def _many_distinct(col: pd.Series) -> bool:
    """Whether most values look distinct (ids, titles): then factorizing does not pay."""
    head = col.iloc[:2000]
    return len(col) > 4000 and head.nunique(dropna=True) > len(head) // 2


def _identity_factor(vals: np.ndarray) -> tuple[np.ndarray, list[Any]]:
    """Codes and values of a column without merging equal values (None = missing)."""
    present = np.array([v is not None for v in vals.tolist()], dtype=bool)
    codes = np.full(len(vals), -1, dtype=np.int64)
    codes[present] = np.arange(int(present.sum()))
    return codes, vals[present].tolist()


def _arrow_text(col: pd.Series) -> Any:
    """The pyarrow array of an Arrow-backed text column, or None."""
    if isinstance(col.dtype, pd.StringDtype) and col.dtype.storage == "pyarrow":
        try:
            import pyarrow as pa

            return pa.array(col.array)
        except (ImportError, TypeError):
            return None
    return None


#: Every character ``str.strip()`` removes (``str.isspace``), as an RE2 class.
_RE2_SPACE = "[" + "".join(rf"\x{{{c:x}}}" for c in range(0x3001) if chr(c).isspace()) + "]"


def _from_factor(codes: np.ndarray, values: list[Any], index: pd.Index,
                 missing: Any = None) -> pd.Series:
    """The Series whose row i is ``values[codes[i]]`` (``missing`` where the code is -1)."""
    table = np.empty(len(values) + 1, dtype=object)
    table[:len(values)] = values
    table[len(values)] = missing
    return pd.Series(table[codes], index=index, dtype=object)


def _as_text(col: pd.Series) -> pd.Series:
    """Object-dtype text (None for missing); object keeps undecodable surrogates storable."""
    fac = _text_factor(col)
    if fac is not None:
        return _from_factor(fac[0], fac[1], col.index)
    vals = [v if isinstance(v, str) else (None if _is_missing(v) else str(v))
            for v in col.astype(object).tolist()]
    return pd.Series(vals, index=col.index, dtype=object)


def _strip(col: pd.Series) -> pd.Series:
    fac = _text_factor(col)
    if fac is not None:
        return _from_factor(fac[0], [v.strip() for v in fac[1]], col.index)
    return pd.Series([v.strip() if isinstance(v, str) else v for v in col.tolist()],
                     index=col.index, dtype=object)


def _stripped_text(col: pd.Series) -> tuple[pd.Series, tuple[np.ndarray, list[Any]] | None]:
    """``_strip(_as_text(col))`` and, for text columns, its codes and distinct values."""
    fac = _text_factor(col)
    if fac is None:
        return _strip(_as_text(col)), None
    codes, uniq = fac
    stripped = [v.strip() for v in uniq]
    return _from_factor(codes, stripped, col.index), (codes, stripped)


def _value_key(v: str) -> str:
    return re.sub(r"\s+", " ", v).strip().casefold()


def _recode(col: pd.Series, table: Mapping[str, str] | None) -> pd.Series:
    """Strip text and replace values found in ``table`` (keys matched ignoring case/spacing)."""
    col, fac = _stripped_text(col)
    if not table:
        return col
    keyed = {_value_key(k): v for k, v in table.items()}
    if fac is not None:
        return _from_factor(fac[0], [keyed.get(_value_key(s), s) for s in fac[1]], col.index)
    return pd.Series(_per_value(col.tolist(), lambda s: keyed.get(_value_key(s), s)
                                if isinstance(s, str) else s), index=col.index, dtype=object)


def _per_value(values: list[Any], fn: Any) -> list[Any]:
    """``[fn(v) for v in values]``, computing ``fn`` once per distinct hashable value."""
    cache: dict[Any, Any] = {}
    out = []
    for v in values:
        try:
            out.append(cache[v])
        except KeyError:
            out.append(cache.setdefault(v, fn(v)))
        except TypeError:  # unhashable
            out.append(fn(v))
    return out


def _has_surrogate(values: list[Any]) -> np.ndarray:
    """Per value: a str holding an undecodable byte (a lone surrogate)."""
    strs = [v for v in values if isinstance(v, str)]
    if not _SURROGATE.search("\n".join(strs)):
        return np.zeros(len(values), dtype=bool)
    return np.array([isinstance(v, str) and bool(_SURROGATE.search(v)) for v in values],
                    dtype=bool)


def _check_text(df: pd.DataFrame, spec: ColumnSpec, f: _Failures) -> pd.Series:
    raw = df[spec.name]
    if _arrow_text(raw) is not None:  # Arrow text holds no undecodable bytes
        return raw.fillna("")
    fac = _text_factor(raw)
    if fac is not None:
        codes, uniq = fac
        bad_u = _has_surrogate(uniq)
        vals = ["" if b else v for v, b in zip(uniq, bad_u.tolist(), strict=True)]
        bad = np.append(bad_u, False)[codes]
        f.add("text_decodes", spec.name, bad)
        return _from_factor(codes, vals, raw.index, missing="")
    col = _as_text(raw).fillna("")
    bad = _has_surrogate(col.tolist())
    f.add("text_decodes", spec.name, bad)
    return col.where(~bad, "")


def _check_id(df: pd.DataFrame, spec: ColumnSpec, f: _Failures) -> pd.Series:
    arr = _arrow_text(df[spec.name])
    if arr is not None and len(arr) > 4000:
        import pyarrow.compute as pc

        padded = pc.match_substring_regex(arr, pattern=f"^{_RE2_SPACE}|{_RE2_SPACE}$")
        if not pc.any(padded).as_py():  # nothing to strip: ids as read
            col = df[spec.name]
            empty = pc.fill_null(pc.equal(arr, ""), True)
            f.add("id_present", spec.name, empty.to_numpy(zero_copy_only=False))
            if pc.count_distinct(arr, mode="all").as_py() == len(arr) and arr.null_count == 0:
                if not pc.any(empty).as_py():
                    f.distinct.add(spec.name)
            return col
    col, fac = _stripped_text(df[spec.name])
    if fac is not None:
        codes, uniq = fac
        empty = np.append(np.array([v == "" for v in uniq], dtype=bool), True)
        f.add("id_present", spec.name, empty[codes])
        f.add("text_decodes", spec.name, np.append(_has_surrogate(uniq), False)[codes])
        if len(uniq) == len(codes) and not empty[:-1].any() and len(set(uniq)) == len(uniq):
            f.distinct.add(spec.name)
        return col
    missing = col.isna() | (col == "")
    f.add("id_present", spec.name, missing)
    f.add("text_decodes", spec.name, _has_surrogate(col.tolist()))
    return col


def _check_unique(raw: pd.DataFrame, ids: pd.Series, column: str, f: _Failures) -> None:
    """Later duplicates of an id: exact copies of an earlier record, or conflicting ones."""
    if column in f.distinct:
        return
    present = ids.notna() & (ids != "")
    dup = (ids.duplicated(keep="first") & present).to_numpy()
    if not dup.any():
        return
    first_of: dict[Any, int] = {}
    exact = np.zeros(len(ids), dtype=bool)
    # Only rows whose id occurs more than once can be, or be the first copy of, a duplicate.
    sub = np.flatnonzero((ids.duplicated(keep=False) & present).to_numpy())
    part = raw.iloc[sub]
    rows = part.astype(object).where(part.notna(), None).to_numpy()
    id_list = ids.tolist()
    for k, i in enumerate(sub.tolist()):
        v = id_list[i]
        if v not in first_of:
            first_of[v] = k
        elif dup[i]:
            exact[i] = all(_same(a, b) for a, b in zip(rows[k], rows[first_of[v]], strict=True))
    f.add("duplicate_record", column, dup & exact)
    f.add("id_unique", column, dup & ~exact)


def _same(a: Any, b: Any) -> bool:
    if _is_missing(a) and _is_missing(b):
        return True
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False


_ISO = re.compile(
    r"(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})"
    r"(?:[T ](?P<H>\d{2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:[.,](?P<f>\d+))?)?)?"
    r"\s*(?P<tz>Z|z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?"
)


def _iso_to_utc_date(s: str) -> _dt.date | None:
    """UTC calendar date of an ISO 8601 date/timestamp; naive timestamps are taken as UTC."""
    m = _ISO.fullmatch(s.strip())
    if m is None:
        return None
    try:
        d = _dt.datetime(int(m["y"]), int(m["m"]), int(m["d"]), int(m["H"] or 0),
                         int(m["M"] or 0), int(m["S"] or 0))
    except ValueError:
        return None
    tz = m["tz"]
    if tz and tz[0] in "+-":
        hh, mm = int(tz[1:3]), int(tz[-2:]) if len(tz) > 3 else 0
        if hh > 23 or mm > 59:
            return None
        off = _dt.timedelta(hours=hh, minutes=mm)
        try:
            d = d - off if tz[0] == "+" else d + off
        except OverflowError:
            return None
    return d.date()


def _to_utc_date(v: Any, fmt: str | None, transform: str | None) -> _dt.date | None:
    if isinstance(v, pd.Timestamp):
        v = v.to_pydatetime()
    if isinstance(v, np.datetime64):
        v = pd.Timestamp(v).to_pydatetime()
    if isinstance(v, _dt.datetime):
        if v.tzinfo is not None:
            v = v.astimezone(_dt.UTC).replace(tzinfo=None)
        return v.date()
    if isinstance(v, _dt.date):
        return v
    if transform in ("epoch_s", "epoch_ms"):
        try:
            x = float(v)
            if transform == "epoch_ms":
                x /= 1000.0
            return (_dt.datetime(1970, 1, 1) + _dt.timedelta(seconds=x)).date()
        except (TypeError, ValueError, OverflowError):
            return None
    if not isinstance(v, str):
        return None
    if fmt:
        try:
            d = _dt.datetime.strptime(v.strip(), fmt)
        except ValueError:
            return None
        if d.tzinfo is not None:
            d = d.astimezone(_dt.UTC).replace(tzinfo=None)
        return d.date()
    return _iso_to_utc_date(v)


def _check_date(df: pd.DataFrame, spec: ColumnSpec, f: _Failures, date_range: tuple[str, str],
                fmt: str | None, transform: str | None) -> pd.Series:
    raw = df[spec.name]
    lo, hi = (pd.Timestamp(d).date() for d in date_range)
    if pd.api.types.is_datetime64_any_dtype(raw):
        s = raw
        if getattr(s.dt, "tz", None) is not None:
            s = s.dt.tz_convert("UTC").dt.tz_localize(None)
        days = s.to_numpy().astype("datetime64[D]")
        unparsed = np.isnat(days)
        f.add("date_parses", spec.name, unparsed)
        lo_d, hi_d = np.datetime64(lo, "D"), np.datetime64(hi, "D")
        out_of_range = ~unparsed & ((days < lo_d) | (days > hi_d))
        f.add("date_in_range", spec.name, out_of_range, f"between {lo} and {hi}")
        days = np.where(out_of_range, np.datetime64("NaT", "D"), days)
        return pd.Series(days.astype("datetime64[ns]"), index=raw.index)
    fac = _text_factor(raw)
    if fac is not None:
        return _dates_by_value(fac, raw.index, spec, f, (lo, hi), fmt, transform)
    cache: dict[Any, _dt.date | None] = {}
    dates: list[_dt.date | None] = []
    vals = raw.astype(object).tolist()
    for v in vals:
        if _is_missing(v):
            dates.append(None)
            continue
        key = (type(v), v) if isinstance(v, (str, int, float)) else None
        if key is not None and key in cache:
            dates.append(cache[key])
            continue
        d = _to_utc_date(v, fmt, transform)
        if key is not None:
            cache[key] = d
        dates.append(d)
    unparsed = np.array([d is None for d in dates], dtype=bool)
    detail = f"format {fmt!r}" if fmt else (transform or "")
    f.add("date_parses", spec.name, unparsed, detail)
    out_of_range = np.array([d is not None and not (lo <= d <= hi) for d in dates], dtype=bool)
    f.add("date_in_range", spec.name, out_of_range, f"between {lo} and {hi}")
    ok = [d if d is not None and lo <= d <= hi else None for d in dates]
    arr = np.array([np.datetime64(d, "D") if d is not None else np.datetime64("NaT", "D")
                    for d in ok], dtype="datetime64[D]")
    return pd.Series(arr.astype("datetime64[ns]"), index=raw.index)


def _dates_by_value(fac: tuple[np.ndarray, list[Any]], index: pd.Index, spec: ColumnSpec,
                    f: _Failures, rng: tuple[_dt.date, _dt.date], fmt: str | None,
                    transform: str | None) -> pd.Series:
    """:func:`_check_date` on a text column: each distinct value parsed once."""
    codes, uniq = fac
    lo, hi = rng
    dates = [_to_utc_date(v, fmt, transform) for v in uniq] + [None]  # last: missing
    unparsed = np.array([d is None for d in dates], dtype=bool)[codes]
    detail = f"format {fmt!r}" if fmt else (transform or "")
    f.add("date_parses", spec.name, unparsed, detail)
    out_of_range = np.array([d is not None and not (lo <= d <= hi) for d in dates],
                            dtype=bool)[codes]
    f.add("date_in_range", spec.name, out_of_range, f"between {lo} and {hi}")
    arr = np.array([np.datetime64(d, "D") if d is not None and lo <= d <= hi
                    else np.datetime64("NaT", "D") for d in dates], dtype="datetime64[D]")
    return pd.Series(arr[codes].astype("datetime64[ns]"), index=index)


_PLAIN_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?")


def _plain_numbers(col: pd.Series) -> tuple[np.ndarray, np.ndarray] | None:
    """Rows holding a plain number (``1500``, ``1500.5``) and their values, in pyarrow.

    For these :func:`parse_money` returns ``float(value)``; Arrow's conversion is correctly
    rounded as Python's is, so the values are the same doubles. None when pyarrow cannot
    take the column (not text, undecodable bytes) or a number is not finite.
    """
    if not (col.dtype == object or isinstance(col.dtype, pd.StringDtype)) or len(col) < 4000:
        return None
    try:
        import pyarrow as pa
        import pyarrow.compute as pc

        arr = pa.array(col.to_numpy(dtype=object), type=pa.large_string(), from_pandas=True)
        mask = pc.fill_null(pc.match_substring_regex(arr, pattern=r"^[0-9]+(?:\.[0-9]+)?$"),
                            False)
        m = np.asarray(mask.to_numpy(zero_copy_only=False), dtype=bool)
        vals = pc.cast(arr.filter(mask), pa.float64()).to_numpy(zero_copy_only=False)
    except (ImportError, UnicodeError, TypeError, ValueError, OverflowError):
        return None
    except Exception as exc:  # pyarrow.ArrowInvalid and the like
        if type(exc).__module__.startswith("pyarrow"):
            return None
        raise
    vals = np.asarray(vals, dtype=np.float64)
    if not np.all(np.isfinite(vals)):
        return None
    return m, vals


def _parse_money_fast(v: str, decimal: Literal[".", ","]) -> tuple[float | None, str | None]:
    """:func:`parse_money` of a str, with a short cut for plain numbers such as ``1500.5``."""
    if decimal == "." and _PLAIN_NUMBER.fullmatch(v):
        x = float(v)
        if math.isfinite(x):
            return x, None
    return parse_money(v, decimal)


def _check_money(df: pd.DataFrame, spec: ColumnSpec, f: _Failures,
                 decimal: Literal[".", ","]) -> pd.Series:
    raw = df[spec.name]
    if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
        num = pd.to_numeric(raw, errors="coerce").astype("float64")
        bad = ~np.isfinite(num.fillna(0.0)) | (num < 0)
        missing = num.isna()
        vals = num.where(~bad)
        f.add("money_valid", spec.name, bad | (missing & (not spec.nullable)))
        return vals
    plain = _plain_numbers(raw) if decimal == "." else None
    rest = raw if plain is None else raw[~plain[0]]
    fac = _text_factor(rest)
    if fac is not None:
        codes, uniq = fac
        parsed = [_parse_money_fast(v, decimal) for v in uniq] + [parse_money(None, decimal)]
        u_val = np.full(len(parsed), np.nan)
        u_rule = np.full(len(parsed), "", dtype=object)
        for j, (val, rule) in enumerate(parsed):
            if rule is None and val is None and not spec.nullable:
                rule = "money_valid"
            if rule:
                u_rule[j] = rule
            elif val is not None:
                u_val[j] = val
        rule_of = np.full(len(raw), "", dtype=object)
        values = np.full(len(raw), np.nan)
        if plain is None:
            rule_of[:], values[:] = u_rule[codes], u_val[codes]
        else:
            rule_of[~plain[0]], values[~plain[0]] = u_rule[codes], u_val[codes]
            values[plain[0]] = plain[1]
        f.add("money_valid", spec.name, rule_of == "money_valid",
              "decimal comma" if decimal == "," else "")
        f.add("currency_usd", spec.name, rule_of == "currency_usd")
        return pd.Series(values, index=raw.index, dtype="float64")
    cache: dict[Any, tuple[float | None, str | None]] = {}
    values = np.full(len(raw), np.nan)
    rule_of = np.full(len(raw), "", dtype=object)
    for i, v in enumerate(raw.astype(object).tolist()):
        key = v if isinstance(v, (str, int, float)) else None
        if key is not None and key in cache:
            val, rule = cache[key]
        else:
            val, rule = parse_money(v, decimal)
            if key is not None:
                cache[key] = (val, rule)
        if rule is None and val is None and not spec.nullable:
            rule = "money_valid"
        if rule:
            rule_of[i] = rule
        elif val is not None:
            values[i] = val
    f.add("money_valid", spec.name, rule_of == "money_valid",
          "decimal comma" if decimal == "," else "")
    f.add("currency_usd", spec.name, rule_of == "currency_usd")
    return pd.Series(values, index=raw.index, dtype="float64")


def _check_choice(df: pd.DataFrame, spec: ColumnSpec, f: _Failures) -> pd.Series:
    """Match choices ignoring case and spacing; store them in the canonical spelling."""
    keys = {_value_key(c): c for c in spec.choices}
    keys.update({_value_key(a): c for a, c in spec.aliases})
    col, fac = _stripped_text(df[spec.name])
    if fac is not None:
        codes, uniq = fac
        canon = [keys.get(_value_key(v), v) for v in uniq]
        u_missing = np.array([v == "" for v in canon] + [True], dtype=bool)
        u_bad = np.array([v not in spec.choices for v in canon] + [True], dtype=bool)
        u_bad &= ~(u_missing & spec.nullable)
        f.add("allowed_value", spec.name, u_bad[codes],
              "one of " + ", ".join(repr(c) for c in spec.choices)
              + (" or missing" if spec.nullable else ""))
        return _from_factor(codes, [None if v == "" else v for v in canon], col.index)
    vals = _per_value(col.tolist(), lambda v: keys.get(_value_key(v), v)
                      if isinstance(v, str) else v)
    col = pd.Series(vals, index=col.index, dtype=object)
    missing = col.isna() | (col == "")
    bad = ~col.isin(spec.choices) & ~(missing & spec.nullable)
    f.add("allowed_value", spec.name, bad,
          "one of " + ", ".join(repr(c) for c in spec.choices)
          + (" or missing" if spec.nullable else ""))
    return col.where(~missing, None)


def _check_country(df: pd.DataFrame, spec: ColumnSpec, f: _Failures,
                   transform: str | None) -> pd.Series:
    col, fac = _stripped_text(df[spec.name])
    codes, names, former = _country_tables()
    if fac is not None and transform != "country_name":
        u_ok = np.array([v in codes for v in fac[1]] + [False], dtype=bool)
        f.add("country_code", spec.name, ~u_ok[fac[0]])
        return col
    vals = col.tolist()
    if transform == "country_name":
        out = _per_value(vals, lambda v: country_code(v) if isinstance(v, str) and v else None)
        unknown = np.array([c is None for c in out], dtype=bool)
        note = _per_value(vals, lambda v: former.get(_country_key(v)) if isinstance(v, str)
                          else None)
        is_former = unknown & np.array([n is not None for n in note], dtype=bool)
        f.add("country_known", spec.name, unknown & ~is_former)
        for name in sorted({vals[i] for i in np.flatnonzero(is_former)}):
            rows = is_former & (col == name).to_numpy()
            f.add("country_known", spec.name, rows, f"{name!r} is {note[int(np.argmax(rows))]}")
        return pd.Series(out, index=col.index, dtype=object)
    ok = np.array(_per_value(vals, lambda v: isinstance(v, str) and v in codes), dtype=bool)
    f.add("country_code", spec.name, ~ok)
    return col


def _object_factor(col: pd.Series) -> tuple[np.ndarray, list[Any]] | None:
    """Codes >= 0 and distinct values (None last) of a column of str and None, else None."""
    fac = _text_factor(col)
    if fac is None:
        return None
    codes, uniq = fac
    if col.dtype == object and any(v is not None for v in
                                   col.to_numpy()[codes < 0].tolist()):
        return None  # missing markers other than None: keep them as they are
    return np.where(codes < 0, len(uniq), codes), [*uniq, None]


def _check_taxonomy(cat_raw: pd.Series, sub_raw: pd.Series, f: _Failures
                    ) -> tuple[pd.Series, pd.Series]:
    """Match labels to the taxonomy ignoring case and spacing (``taxonomy.match_category`` and
    ``taxonomy.match_subcategory``, once per distinct pair); return canonical spellings."""
    fc, fs = _object_factor(cat_raw), _object_factor(sub_raw)
    if fc is not None and fs is not None:
        m = len(fs[1])
        pair_codes, pair_uniq = pd.factorize(fc[0].astype(np.int64) * m + fs[0])
        uniq = [(fc[1][p // m], fs[1][p % m]) for p in np.asarray(pair_uniq).tolist()]
        ucat = taxonomy.match_category([c for c, _ in uniq]).tolist()
        usub = taxonomy.match_subcategory([c for c, _ in uniq], [s for _, s in uniq]).tolist()
        cat = _from_factor(np.asarray(pair_codes), ucat, cat_raw.index)
        sub = _from_factor(np.asarray(pair_codes), usub, cat_raw.index)
    else:
        pairs = list(zip(cat_raw.tolist(), sub_raw.tolist(), strict=True))
        uniq = list(dict.fromkeys(pairs))
        ucat = taxonomy.match_category([c for c, _ in uniq]).tolist()
        usub = taxonomy.match_subcategory([c for c, _ in uniq], [s for _, s in uniq]).tolist()
        found = {p: (c, s) for p, c, s in zip(uniq, ucat, usub, strict=True)}
        cat = pd.Series([found[p][0] for p in pairs], index=cat_raw.index, dtype=object)
        sub = pd.Series([found[p][1] for p in pairs], index=cat_raw.index, dtype=object)
    bad_cat = cat.isna().to_numpy()
    f.add("category_known", "category", bad_cat)
    f.add("subcategory_known", "subcategory", ~bad_cat & sub.isna().to_numpy())
    return cat.where(~bad_cat, cat_raw), sub.where(sub.notna(), sub_raw)


def _check_required(df: pd.DataFrame, specs: tuple[ColumnSpec, ...], source: str,
                    m: ColumnMapping) -> None:
    missing = [s.name for s in specs if s.required and s.name not in df.columns]
    if specs is JOB_POST_COLUMNS and not ({"contract_value_usd", "fixed_budget_usd",
                                           "hourly_rate_usd"} & set(df.columns)):
        missing.append("contract_value_usd (or fixed_budget_usd / hourly_rate_usd to compute it)")
    if missing:
        hint = (f" The mapping {m.label} was applied." if m.columns else
                " Rename the columns to the canonical names or pass mapping= (see "
                "docs/readers.md).")
        raise DataValidationError(
            f"{source}: rule 'required_columns': missing required column(s) "
            f"{', '.join(map(repr, missing))} in all {len(df)} rows; columns present: "
            f"{', '.join(map(repr, map(str, df.columns)))}.{hint}"
        )


def _raise(source: str, df: pd.DataFrame, failures: _Failures, lines: np.ndarray | None,
           colmap: Mapping[str, str]) -> None:
    n_bad = int(failures.any_mask().sum())
    out = []
    for rule, column, mask, detail in failures.items:
        idx = np.flatnonzero(mask)
        src = colmap.get(column, column)
        shown = ", ".join(
            f"{_show(df[src].iloc[i] if src in df.columns else None)} "
            f"({_where(i, lines)})" for i in idx[:_N_SHOW]
        )
        text = RULE_TEXT[rule] + (f" ({detail})" if detail else "")
        named = f"column {column!r}" + (f" (source column {src!r})" if src != column else "")
        out.append(f"{named}, rule {rule!r}: {len(idx)} row(s) fail — {text}; first: {shown}")
    raise DataValidationError(
        f"{source}: {n_bad} of {len(df)} rows are invalid.\n  - " + "\n  - ".join(out) +
        "\nFix the source data, map labels with mapping= (or category_map=/subcategory_map=), or "
        "read with on_invalid='quarantine' to keep the valid rows and inspect the rejected ones."
    )


def _where(i: int, lines: np.ndarray | None) -> str:
    return f"row {i + 1}" + (f", line {int(lines[i])}" if lines is not None else "")


def _show(v: Any) -> str:
    if _is_missing(v):
        return "<missing>"
    s = repr(v) if isinstance(v, str) else repr(str(v))
    return s if len(s) <= 60 else s[:57] + "...'"


def _finish(raw: pd.DataFrame, out: pd.DataFrame, failures: _Failures, loaded: _Loaded,
            on_invalid: OnInvalid, specs: tuple[ColumnSpec, ...], colmap: Mapping[str, str],
            settings: dict[str, Any]) -> pd.DataFrame | ReadResult:
    source = loaded.source
    bad = failures.any_mask()
    if bad.any() and on_invalid == "raise":
        _raise(source, raw, failures, loaded.lines, colmap)
    counts = {rule: 0 for rule, *_ in failures.items}
    idx = np.flatnonzero(bad)
    # Reasons are built for the rejected rows only, one text per rule (not per row).
    slot = np.full(len(raw), -1, dtype=np.int64)
    slot[idx] = np.arange(idx.size)
    first_rule = np.full(idx.size, "", dtype=object)
    first_col = np.full(idx.size, "", dtype=object)
    reasons: list[list[str]] = [[] for _ in range(idx.size)]
    for rule, column, mask, detail in failures.items:
        counts[rule] += int(mask.sum())
        text = f"{column}: {RULE_TEXT[rule]}" + (f" ({detail})" if detail else "")
        ks = slot[mask]
        new = ks[first_rule[ks] == ""]
        first_rule[new], first_col[new] = rule, column
        for k in ks.tolist():
            reasons[k].append(text)
    kept = out.loc[~bad].reset_index(drop=True)
    for s in specs:
        if s.name in kept.columns and s.dtype == "string":
            kept[s.name] = _to_str(kept[s.name])
    if on_invalid == "raise":
        return kept
    cols: dict[str, Any] = {"row": idx + 1}
    if loaded.lines is not None:
        cols["line"] = loaded.lines[idx]
    cols.update({
        "rule": first_rule.astype(str),
        "column": first_col.astype(str),
        "reason": ["; ".join(r) for r in reasons],
    })
    rejected = pd.DataFrame(cols)
    original = raw.iloc[idx].reset_index(drop=True).astype(object)
    original.columns = [f"value_{c}" for c in original.columns]
    rejected = pd.concat([rejected, original], axis=1)
    return ReadResult(data=kept, rejected=rejected, n_read=len(raw), source=source, rules=counts,
                      n_lines=loaded.n_lines, mapping=str(settings["mapping"]),
                      settings=settings)


def _to_str(col: pd.Series) -> pd.Series:
    """``col.astype("str")``; a column of few distinct values is converted once per value."""
    if col.dtype == object and len(col) > 10_000:
        head = col.iloc[:1000].tolist()
        try:
            few = len(set(head)) < 100
        except TypeError:  # unhashable values
            few = False
        if few:
            codes, uniq = pd.factorize(col.to_numpy(), use_na_sentinel=True)
            u = np.asarray(uniq, dtype=object)
            if len(u) * 4 < len(col) and all(type(v) is str for v in u.tolist()):
                try:
                    import pyarrow as pa

                    arr = pa.array(u, type=pa.large_string()).take(
                        pa.array(codes, mask=codes < 0))
                    return pd.Series(pd.array(arr, dtype="str"), index=col.index, name=col.name)
                except (ImportError, UnicodeError, ValueError, TypeError):
                    pass
    return col.astype("str")


def _warn_quarantine(res: ReadResult, warn_share: float, tiers_all: pd.Series | None,
                     tiers_kept: pd.Series | None) -> None:
    rej = res.rejected
    lossy = rej.loc[~rej["rule"].isin(_LOSSLESS_RULES)] if len(rej) else rej
    if res.n_read and len(lossy) / res.n_read > warn_share:
        by_rule = ", ".join(f"{r} {n}" for r, n in lossy["rule"].value_counts().items())
        warnings.warn(
            f"{res.source}: quarantine rejected {len(lossy)} of {res.n_read} rows "
            f"({len(lossy) / res.n_read:.1%}, more than warn_share={warn_share:.1%}); by first "
            f"rule: {by_rule}. Inspect result.rejected.", QuarantineWarning, stacklevel=3)
    if tiers_all is not None and tiers_kept is not None:
        emptied = sorted(set(tiers_all.dropna()) - set(tiers_kept.dropna()))
        if emptied:
            n = {t: int((tiers_all == t).sum()) for t in emptied}
            warnings.warn(
                f"{res.source}: quarantine rejected every post of value tier(s) "
                f"{', '.join(f'{t!r} ({k} rows)' for t, k in n.items())}; panels will have no "
                "posts there. Inspect result.rejected.", QuarantineWarning, stacklevel=3)


def _tiers(values: pd.Series) -> pd.Series:
    v = values.to_numpy(dtype=float)
    t = np.array(taxonomy.value_tier(v).tolist(), dtype=object)
    t[np.isnan(v)] = "unknown"
    return pd.Series(t, index=values.index, dtype=object)


def _lookup(col: pd.Series | None, n: int, fn: Any) -> np.ndarray:
    """``[fn(v) for v in col]`` as floats, computed once per distinct value."""
    if col is None:
        return np.full(n, float(fn(None)))
    fac = _object_factor(col)
    if fac is None:
        return np.array([fn(v) for v in col.tolist()], dtype=float)
    return np.array([fn(v) for v in fac[1]], dtype=float)[fac[0]]


def _project(out: pd.DataFrame, f: _Failures, a: ValueAssumptions) -> None:
    """Fill ``contract_value_usd`` (when absent) and ``value_basis``."""
    bt = out["budget_type"]
    fixed = (bt == "fixed_budget").to_numpy()
    hourly = (bt == "hourly").to_numpy()
    none = (bt == "no_budget").to_numpy()
    n = len(out)
    nan = np.full(n, np.nan)
    fb = out["fixed_budget_usd"].to_numpy(float) if "fixed_budget_usd" in out else nan
    rate = out["hourly_rate_usd"].to_numpy(float) if "hourly_rate_usd" in out else nan
    if "contract_value_usd" in out.columns:
        value = out["contract_value_usd"].to_numpy(float).copy()
        given = True
    else:
        hours = _lookup(out["engagement"] if "engagement" in out else None, n,
                        lambda e: a.hours_per_week.get(e if isinstance(e, str) else "", np.nan))
        weeks = _lookup(out["duration"] if "duration" in out else None, n,
                        lambda d: a.weeks.get(d, np.nan) if isinstance(d, str) else np.nan)
        value = np.where(fixed, fb, np.where(hourly, np.round(rate * hours * weeks, 2), np.nan))
        given = False
    carried = ~np.isnan(value) | ~np.isnan(fb) | ~np.isnan(rate)
    f.add("value_consistent", "contract_value_usd" if given else "budget_type", none & carried)
    value = np.where(none, np.nan, value)
    kind = np.where(np.isnan(value), 0, np.where(fixed, 1, np.where(hourly, 2, 0)))
    basis = np.array(["none", "fixed_budget", "hourly_projection"], dtype=object)[kind]
    out["contract_value_usd"] = value
    out["value_basis"] = pd.Series(basis, index=out.index, dtype=object)


def _read(kind: Literal["job_posts", "contracts"], source: Any, *, mapping: Any,
          on_invalid: OnInvalid, date_range: tuple[str, str], date_format: Any,
          decimal: Literal[".", ","] | None, delimiter: str | None, encoding: str,
          con: Any | None) -> tuple[_Loaded, pd.DataFrame, pd.DataFrame, _Failures,
                                    ColumnMapping, dict[str, str], dict[str, Any]]:
    specs = JOB_POST_COLUMNS if kind == "job_posts" else CONTRACT_COLUMNS
    check_option("on_invalid", on_invalid, ("raise", "quarantine"))
    if delimiter is not None and (not isinstance(delimiter, str) or len(delimiter) != 1):
        raise OptionError(f"delimiter must be one character (e.g. ',', ';', '\\t') or None to "
                          f"detect it; got {delimiter!r}.")
    _check_range(date_range)
    m = _resolve_mapping(mapping, specs)
    dec: Literal[".", ","] = decimal if decimal is not None else m.decimal
    check_option("decimal", dec, (".", ","))
    loaded = _load(source, con, delimiter, encoding)
    raw = loaded.df
    if len(raw) == 0:
        raise DataValidationError(f"{loaded.source}: rule 'not_empty': the table has no rows.")
    renamed = _apply_mapping(raw, m, specs, loaded.source)
    colmap = {t: c for c, t in m.columns.items() if c in raw.columns}
    _check_required(renamed, specs, loaded.source, m)
    fmt_of = _date_formats(date_format if date_format is not None else m.date_format, specs)
    f = _Failures(len(raw))
    out = renamed.copy()
    for spec in specs:
        if spec.name not in renamed.columns or spec.kind == "derived":
            continue
        col = renamed[[spec.name]].copy()
        if spec.name in m.values:
            col[spec.name] = _recode(col[spec.name], m.values[spec.name])
        tr = m.transforms.get(spec.name)
        if spec.kind == "id":
            out[spec.name] = _check_id(col, spec, f)
        elif spec.kind == "date":
            out[spec.name] = _check_date(col, spec, f, date_range, fmt_of.get(spec.name), tr)
        elif spec.kind == "text":
            out[spec.name] = _check_text(col, spec, f)
        elif spec.kind == "choice":
            out[spec.name] = _check_choice(col, spec, f)
        elif spec.kind == "money":
            out[spec.name] = _check_money(col, spec, f, dec)
        elif spec.kind == "country":
            out[spec.name] = _check_country(col, spec, f, tr)
    settings: dict[str, Any] = {
        "mapping": m.label if (m.columns or m.values or m.transforms) else "",
        "date_range": tuple(date_range), "date_format": fmt_of or None, "decimal": dec,
        "delimiter": loaded.delimiter, "encoding": encoding if loaded.delimiter else None,
    }
    return loaded, raw, out, f, m, colmap, settings


def _check_range(date_range: tuple[str, str]) -> None:
    try:
        lo, hi = (pd.Timestamp(d) for d in date_range)
    except (TypeError, ValueError) as exc:
        raise OptionError(f"date_range must be two ISO dates (start, end); got {date_range!r}."
                          ) from exc
    if hi < lo:
        raise OptionError(f"date_range must have start <= end; got {date_range!r}.")


def _date_formats(fmt: str | Mapping[str, str] | None, specs: tuple[ColumnSpec, ...]
                  ) -> dict[str, str]:
    dates = [s.name for s in specs if s.kind == "date"]
    if fmt is None:
        return {}
    if isinstance(fmt, str):
        if "%" not in fmt:
            raise OptionError(f"date_format must be a strftime format such as '%d/%m/%Y'; got "
                              f"{fmt!r}.")
        return dict.fromkeys(dates, fmt)
    unknown = [k for k in fmt if k not in dates]
    if unknown:
        raise OptionError(f"date_format keys must be date columns ({', '.join(map(repr, dates))}"
                          f"); got {unknown}.")
    return dict(fmt)


# ----------------------------------------------------------------------------- public

_MappingArg = str | ColumnMapping | Mapping[str, str] | None


@overload
def read_job_posts(
    source: Any, *, mapping: _MappingArg = ..., on_invalid: Literal["raise"] = ...,
    category_map: Mapping[str, str] | None = ..., subcategory_map: Mapping[str, str] | None = ...,
    date_range: tuple[str, str] = ..., date_format: str | Mapping[str, str] | None = ...,
    decimal: Literal[".", ","] | None = ..., delimiter: str | None = ..., encoding: str = ...,
    value_assumptions: ValueAssumptions | Mapping[str, Mapping[str, float]] | None = ...,
    warn_share: float = ..., con: Any | None = ...,
) -> pd.DataFrame: ...
@overload
def read_job_posts(
    source: Any, *, mapping: _MappingArg = ..., on_invalid: Literal["quarantine"],
    category_map: Mapping[str, str] | None = ..., subcategory_map: Mapping[str, str] | None = ...,
    date_range: tuple[str, str] = ..., date_format: str | Mapping[str, str] | None = ...,
    decimal: Literal[".", ","] | None = ..., delimiter: str | None = ..., encoding: str = ...,
    value_assumptions: ValueAssumptions | Mapping[str, Mapping[str, float]] | None = ...,
    warn_share: float = ..., con: Any | None = ...,
) -> ReadResult: ...


def read_job_posts(
    source: Any,
    *,
    mapping: _MappingArg = None,
    on_invalid: OnInvalid = "raise",
    category_map: Mapping[str, str] | None = None,
    subcategory_map: Mapping[str, str] | None = None,
    date_range: tuple[str, str] = DEFAULT_DATE_RANGE,
    date_format: str | Mapping[str, str] | None = None,
    decimal: Literal[".", ","] | None = None,
    delimiter: str | None = None,
    encoding: str = "utf-8",
    value_assumptions: ValueAssumptions | Mapping[str, Mapping[str, float]] | None = None,
    warn_share: float = DEFAULT_WARN_SHARE,
    con: Any | None = None,
) -> pd.DataFrame | ReadResult:
    """Read and validate a job-posts table.

    Parameters
    ----------
    source : str, pathlib.Path, pandas.DataFrame or duckdb.DuckDBPyRelation
        A ``.csv``/``.tsv``/``.txt`` file (optionally ``.gz``, ``.bz2``, ``.xz`` or a one-file
        ``.zip``), a ``.parquet`` file, directory or glob, a DataFrame, a DuckDB relation, or
        (with ``con``) a DuckDB table name or SQL query.
    mapping : str, ColumnMapping or dict, optional
        How the export's columns translate to the canonical ones: a ready mapping's name
        (``"upwork_2023"``, see :func:`available_mappings`), a :class:`ColumnMapping` with value
        recodes and transforms, or a plain dict of export column -> canonical column.
    on_invalid : {"raise", "quarantine"}, default "raise"
        ``"raise"``: any invalid row raises :class:`~laborai.errors.DataValidationError`.
        ``"quarantine"``: return a :class:`ReadResult` with the valid rows and the rejected ones.
    category_map, subcategory_map : mapping of str to str, optional
        Translate the source's labels to taxonomy names before validation, e.g.
        ``{"Writing & Translation": "Writing"}`` (added to the mapping's value recodes).
    date_range : (str, str), default ("2000-01-01", "2035-12-31")
        Plausible range of ``posted_date`` (inclusive); later dates (``9999-12-31``) are
        rejected with rule ``date_in_range``.
    date_format : str or dict, optional
        A ``strftime`` format for the dates (e.g. ``"%d/%m/%Y"``); default ISO 8601.
    decimal : {".", ","}, optional
        Decimal mark of money strings (default the mapping's, else ``"."``).
    delimiter : str, optional
        CSV delimiter; detected among ``, ; TAB |`` when not given.
    encoding : str, default "utf-8"
        Text encoding of CSV files (a UTF-8 or UTF-16 byte-order mark is honoured).
    value_assumptions : ValueAssumptions or dict, optional
        Weekly hours and weeks used to project hourly posts (see :class:`ValueAssumptions`;
        a dict such as ``{"weeks": {"More than 6 months": 52}}`` overrides some defaults).
    warn_share : float, default 0.01
        Quarantine warns (:class:`QuarantineWarning`) when it rejects more than this share of
        the rows (exact duplicate records excepted), and always when it empties a value tier.
    con : duckdb.DuckDBPyConnection, optional
        Connection holding the table or answering the query named by ``source``.

    Returns
    -------
    pandas.DataFrame or ReadResult
        The canonical job posts (see ``docs/data/schema.md``) with ``contract_value_usd`` and
        ``value_basis``; extra columns are kept as read.

    Raises
    ------
    DataValidationError
        Always for a source that cannot be read as a table: missing required columns, an empty,
        binary or malformed file (with the line of a merged or misshapen CSV record), duplicate
        column names. With ``on_invalid="raise"`` also for invalid rows. The message names the
        source, each failing column and rule, the number of rows and the first offending values
        with their row (and line) numbers.
    DataFileNotFoundError
        If ``source`` is a path that does not exist.
    OptionError
        For an option outside its allowed values.

    Notes
    -----
    Rules: required columns present; ``post_id`` non-empty and unique (a later exact copy of a
    record is rejected as ``duplicate_record``, a later conflicting one as ``id_unique``);
    ``posted_date`` parses (ISO 8601 with ``Z`` or an offset is converted to UTC; naive times
    are taken as UTC, never as the machine's time zone) and lies in ``date_range``;
    ``category`` known and ``subcategory`` belongs to it (ignoring case and spacing); text
    decodes; ``budget_type`` is fixed_budget (or fixed)/hourly/no_budget; ``engagement``,
    ``duration`` and ``experience_level`` are Upwork's labels (ignoring case and spacing); money finite, non-negative and in US
    dollars; ``client_country`` an assigned ISO alpha-2 code (or, with the ``country_name``
    transform, a known country name).

    ``contract_value_usd``, when absent from the source, is computed: the fixed budget for
    fixed posts, ``hourly_rate_usd x weekly hours x weeks`` for hourly posts, missing for
    no-budget posts (kept, never rejected). ``value_basis`` records which
    (``fixed_budget``, ``hourly_projection``, ``none``).

    Examples
    --------
    >>> import laborai as la
    >>> m = la.simulate_marketplace(seed=1, n_posts=2_000)
    >>> posts = la.read_job_posts(m.job_posts)
    >>> len(posts) == len(m.job_posts)
    True
    """
    assumptions = _resolve_assumptions(value_assumptions)
    if not (isinstance(warn_share, (int, float)) and 0 <= warn_share <= 1):
        raise OptionError(f"warn_share must be a number between 0 and 1; got {warn_share!r}.")
    loaded, raw, out, f, m, colmap, settings = _read(
        "job_posts", source, mapping=mapping, on_invalid=on_invalid, date_range=date_range,
        date_format=date_format, decimal=decimal, delimiter=delimiter, encoding=encoding, con=con)
    values = dict(m.values)
    cat_raw = _recode(out["category"], {**values.get("category", {}), **(category_map or {})})
    sub_raw = _recode(out["subcategory"],
                      {**values.get("subcategory", {}), **(subcategory_map or {})})
    out["category"], out["subcategory"] = _check_taxonomy(cat_raw, sub_raw, f)
    _project(out, f, assumptions)
    _check_unique(raw, out["post_id"], "post_id", f)
    tiers_all = _tiers(out["contract_value_usd"])
    out = _canonical_order(out, JOB_POST_COLUMNS)
    settings.update(warn_share=float(warn_share), taxonomy_version=_taxonomy_version(),
                    value_assumptions={"hours_per_week": dict(assumptions.hours_per_week),
                                       "weeks": dict(assumptions.weeks)})
    res = _finish(raw, out, f, loaded, on_invalid, JOB_POST_COLUMNS, colmap, settings)
    if isinstance(res, ReadResult):
        _warn_quarantine(res, float(warn_share), tiers_all,
                         _tiers(res.data["contract_value_usd"]))
    return res


@overload
def read_contracts(
    source: Any, *, job_posts: pd.DataFrame | None = ..., mapping: _MappingArg = ...,
    on_invalid: Literal["raise"] = ..., date_range: tuple[str, str] = ...,
    date_format: str | Mapping[str, str] | None = ..., decimal: Literal[".", ","] | None = ...,
    delimiter: str | None = ..., encoding: str = ..., warn_share: float = ...,
    con: Any | None = ...,
) -> pd.DataFrame: ...
@overload
def read_contracts(
    source: Any, *, job_posts: pd.DataFrame | None = ..., mapping: _MappingArg = ...,
    on_invalid: Literal["quarantine"], date_range: tuple[str, str] = ...,
    date_format: str | Mapping[str, str] | None = ..., decimal: Literal[".", ","] | None = ...,
    delimiter: str | None = ..., encoding: str = ..., warn_share: float = ...,
    con: Any | None = ...,
) -> ReadResult: ...


def read_contracts(
    source: Any,
    *,
    job_posts: pd.DataFrame | None = None,
    mapping: _MappingArg = None,
    on_invalid: OnInvalid = "raise",
    date_range: tuple[str, str] = DEFAULT_DATE_RANGE,
    date_format: str | Mapping[str, str] | None = None,
    decimal: Literal[".", ","] | None = None,
    delimiter: str | None = None,
    encoding: str = "utf-8",
    warn_share: float = DEFAULT_WARN_SHARE,
    con: Any | None = None,
) -> pd.DataFrame | ReadResult:
    """Read and validate a contracts table.

    Parameters
    ----------
    source : str, pathlib.Path, pandas.DataFrame or duckdb.DuckDBPyRelation
        As for :func:`read_job_posts`.
    job_posts : pandas.DataFrame, optional
        Valid job posts; when given, every contract's ``post_id`` must exist among them.
    mapping, on_invalid, date_range, date_format, decimal, delimiter, encoding, warn_share, con
        See :func:`read_job_posts`.

    Returns
    -------
    pandas.DataFrame or ReadResult
        The canonical contracts; extra columns are kept as read.

    Raises
    ------
    DataValidationError
        As for :func:`read_job_posts`.

    Notes
    -----
    Rules: required columns present; ``contract_id`` non-empty and unique; ``post_id`` and
    ``freelancer_id`` non-empty; dates parse and lie in ``date_range``; ``end_date >=
    start_date``; ``earnings_usd`` present, finite, non-negative and in US dollars;
    ``post_id`` exists in ``job_posts`` when given.
    """
    if not (isinstance(warn_share, (int, float)) and 0 <= warn_share <= 1):
        raise OptionError(f"warn_share must be a number between 0 and 1; got {warn_share!r}.")
    loaded, raw, out, f, m, colmap, settings = _read(
        "contracts", source, mapping=mapping, on_invalid=on_invalid, date_range=date_range,
        date_format=date_format, decimal=decimal, delimiter=delimiter, encoding=encoding, con=con)
    both = out["start_date"].notna() & out["end_date"].notna()
    f.add("end_after_start", "end_date", both & (out["end_date"] < out["start_date"]))
    _check_unique(raw, out["contract_id"], "contract_id", f)
    if job_posts is not None:
        known = _as_text(job_posts["post_id"])
        present = out["post_id"].notna() & (out["post_id"] != "")
        f.add("post_exists", "post_id", present & ~_isin(out["post_id"], known))
    out = _canonical_order(out, CONTRACT_COLUMNS)
    settings.update(warn_share=float(warn_share))
    res = _finish(raw, out, f, loaded, on_invalid, CONTRACT_COLUMNS, colmap, settings)
    if isinstance(res, ReadResult):
        _warn_quarantine(res, float(warn_share), None, None)
    return res


def _isin(values: pd.Series, known: pd.Series) -> np.ndarray:
    """``values.isin(known)`` for text, hashed in pyarrow when it can hold both."""
    try:
        import pyarrow as pa
        import pyarrow.compute as pc

        a = pa.array(values.to_numpy(dtype=object), type=pa.large_string(), from_pandas=True)
        k = pa.array(known.to_numpy(dtype=object), type=pa.large_string(), from_pandas=True)
        hit = pc.fill_null(pc.is_in(a, value_set=k, skip_nulls=True), False)
        return np.asarray(hit.to_numpy(zero_copy_only=False), dtype=bool)
    except (ImportError, UnicodeError, TypeError, ValueError):
        pass
    except Exception as exc:  # pyarrow.ArrowInvalid and the like
        if not type(exc).__module__.startswith("pyarrow"):
            raise
    return np.asarray(values.isin(pd.Index(known)), dtype=bool)


def _taxonomy_version() -> str:
    get = getattr(taxonomy, "version", None)
    return str(get()) if get is not None else ""


def _canonical_order(df: pd.DataFrame, specs: tuple[ColumnSpec, ...]) -> pd.DataFrame:
    first = [s.name for s in specs if s.name in df.columns]
    rest = [c for c in df.columns if c not in first]
    return df[first + rest]
