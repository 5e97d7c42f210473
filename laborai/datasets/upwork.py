"""Real Upwork job posts: the public snapshot of early January 2023 (two search exports)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pandas as pd

from laborai.datasets._loading import check_columns, load
from laborai.datasets._sources import Source, citation, get_source
from laborai.errors import DataValidationError

__all__ = ["UPWORK_COLUMNS", "UPWORK_SOURCES", "upwork_snapshot"]

#: Source keys of the two pinned export files, in the order of the snapshots.
UPWORK_SOURCES: tuple[str, ...] = ("upwork_2023_01_01", "upwork_2023_01_03")

#: Columns both files have (as published); ``1_1_2023_general.csv`` also has
#: ``client_payment_verification_status``, ``1_3_2023_general.csv`` ``enterprise_job``,
#: ``weekly_budget_amount`` and ``weekly_budget_currency_code``.
UPWORK_COLUMNS: tuple[str, ...] = (
    "connect_price", "created_on", "tz_date", "duration", "engagement", "freelancers_to_hire",
    "amount_amount", "hourly_rate", "type", "job_ts", "proposals_tier", "published_on",
    "renewed_on", "tier", "title", "total_freelancers_to_hire", "uid", "client_company_org_uid",
    "client_total_feedback", "client_total_reviews", "client_total_spent",
    "client_location_country", "occupations_category_pref_label",
    "occupations_oservice_pref_label",
)

_EXTRA = ("source_file", "source_row")


def _parse_upwork(path: Path, src: Source) -> pd.DataFrame:
    # Every field as the published text; an empty field is missing. Titles contain quoted
    # line breaks, so records are counted with the csv module and must equal the rows read.
    with path.open(newline="", encoding="utf-8") as fh:
        n_records = sum(1 for _ in csv.reader(fh)) - 1
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8")
    if len(raw) != n_records:
        raise DataValidationError(
            f"File {str(path)!r}: rule 'one row per CSV record' broken: {n_records} records but "
            f"{len(raw)} rows parsed. Replace the file with the pinned version."
        )
    check_columns(raw, UPWORK_COLUMNS, path)
    for col in ("uid", "job_ts"):
        bad = raw.index[~raw[col].fillna("").str.fullmatch(r"[0-9]+")]
        if len(bad):
            raise DataValidationError(
                f"File {str(path)!r}, column {col!r}: rule 'digits only' broken in {len(bad)} "
                f"row(s); first offending row numbers: {(bad[:5] + 1).tolist()}."
            )
    raw.insert(len(raw.columns), "source_file", src.path_in_source)
    raw.insert(len(raw.columns), "source_row", pd.RangeIndex(1, len(raw) + 1).to_numpy())
    return raw


def _deduplicate(both: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
    """Keep the latest observation of each ``uid``; count what was dropped and why."""
    published = [c for c in both.columns if c not in _EXTRA]
    file_order = {get_source(k).path_in_source: i for i, k in enumerate(UPWORK_SOURCES)}
    order = both.assign(
        __job_ts=both["job_ts"].astype("int64"),
        __file=both["source_file"].map(file_order),
    ).sort_values(["uid", "__job_ts", "__file", "source_row"], kind="stable")
    keep = ~order.duplicated("uid", keep="last")
    kept = order.loc[keep].set_index("uid")
    dropped = order.loc[~keep]
    ref = kept.loc[dropped["uid"]]
    same_file = dropped["source_file"].to_numpy() == ref["source_file"].to_numpy()
    a = dropped[published].drop(columns="uid").fillna("\x00").to_numpy()
    b = ref[[c for c in published if c != "uid"]].fillna("\x00").to_numpy()
    identical = (a == b).all(axis=1)
    counts = {
        "rows_read": len(both),
        # the same published record twice in one file: the repeat adds nothing
        "exact_repeats_within_file": int((same_file & identical).sum()),
        "other_repeats_within_file": int((same_file & ~identical).sum()),
        # a post returned by both searches: the earlier observation is dropped
        "cross_file_duplicates": int((~same_file).sum()),
        "rows": int(keep.sum()),
    }
    out = order.loc[keep].sort_values(["__file", "source_row"], kind="stable")
    return out.drop(columns=["__job_ts", "__file"]).reset_index(drop=True), counts


def upwork_snapshot(*, deduplicate: bool = True, canonical: bool = False) -> Any:
    """Real Upwork job posts published 23 Dec 2022 - 6 Jan 2023 (two public search exports).

    The two CSV files ``1_1_2023_general.csv`` and ``1_3_2023_general.csv`` of the GitHub
    repository ``Canerakcasu/data`` at commit ``4e2519bace70817c2a2e45ff2b6ae0107303e08a``
    (pinned URL, size and SHA-256 in :func:`laborai.datasets.sources`, keys
    :data:`UPWORK_SOURCES`), read from ``$LABORAI_DATA_DIR/upwork/``, the cache or the pinned
    URL, verified before they are parsed.

    Parameters
    ----------
    deduplicate : bool, default True
        Keep one row per post (``uid``), the latest observation of it: the row with the largest
        ``job_ts`` (the time of the search that returned it; ties: the later file, then the
        later row). This drops the exact repeats of a record within a file (1 in the first
        file, 222 in the second) and, for the 7 posts present in both files, the earlier
        snapshot (the later one has the post's renewal, its edited title or budget and its
        later proposal count). ``False`` returns every published row.
    canonical : bool, default False
        ``True`` returns the posts in laborai's canonical schema instead, read with
        ``la.read_job_posts(snapshot, mapping="upwork_2023", on_invalid="quarantine")``: a
        :class:`laborai.data.ReadResult` (``data``, ``rejected``) whose rows keep
        ``source_file`` and ``source_row``. Needs ``deduplicate=True``.

    Returns
    -------
    pandas.DataFrame or laborai.data.ReadResult
        The raw export (``canonical=False``): the published columns of both files as text
        (object dtype, exactly as published; an empty field is missing; ``uid`` and
        ``client_company_org_uid`` are 19-digit identifiers, kept as text), in the order of
        :data:`UPWORK_COLUMNS` followed by the columns only one file has
        (``client_payment_verification_status``; ``enterprise_job``,
        ``weekly_budget_amount``, ``weekly_budget_currency_code``: missing for the other
        file's rows), then ``source_file`` (the file name) and ``source_row`` (1-based data row
        in that file). Sorted by file and row. 9,761 posts (9,991 rows without
        deduplication: 4,995 + 4,996).

        ``attrs`` holds ``source`` (the two pinned URLs), ``source_key``, ``repository``,
        ``commit``, ``licence``, ``sha256`` (one per file), ``citation`` and ``duplicates``
        (``rows_read``, ``exact_repeats_within_file``, ``other_repeats_within_file``,
        ``cross_file_duplicates``, ``rows`` = the number of unique posts; ``rows_read``
        equals the sum of the others) and ``deduplicated``.

    Raises
    ------
    DataFileNotFoundError
        If a file is in neither ``LABORAI_DATA_DIR`` nor the cache and cannot be downloaded;
        the message says where to put which file (URL, size and SHA-256).
    DataValidationError
        If a file's size, hash or layout differs from the pinned version.
    OptionError
        For ``canonical=True`` with ``deduplicate=False``.

    Notes
    -----
    Licence: the source repository states **no licence**; its README describes the data as
    collected "for educational and research purposes". laborai does not redistribute the
    files; it knows their pinned URL and hash and reads them where you put them. Use them for
    research and tests, and cite the repository (``attrs["citation"]``).

    What the snapshot is: one week of real posts as Upwork's job search returned them (99% were
    published from 31 Dec 2022 on) -- Upwork's real 12 categories and their subcategories
    (``occupations_*_pref_label``), real titles, posted budgets (``amount_amount``, fixed
    price) and hourly rates, durations, weekly hours (``engagement``) and client countries
    (names). ``type`` is ``fixed_budget``, ``hourly`` or ``no_budget``. There are no
    descriptions, contracts or earnings, and one week cannot carry a difference-in-differences
    design. Budgets are posted budgets, not paid contract values.

    Examples
    --------
    >>> import laborai as la
    >>> raw = la.datasets.upwork_snapshot()  # doctest: +SKIP
    >>> len(raw), raw["uid"].is_unique  # doctest: +SKIP
    (9761, True)
    """
    if canonical and not deduplicate:
        from laborai.errors import OptionError

        raise OptionError("canonical=True needs deduplicate=True (the canonical post_id must be "
                          "unique); got deduplicate=False.")
    parts = [load(key, _parse_upwork) for key in UPWORK_SOURCES]
    both = pd.concat(parts, ignore_index=True)
    extra_cols = [c for p in parts for c in p.columns if c not in UPWORK_COLUMNS
                  and c not in _EXTRA]
    both = both[[*UPWORK_COLUMNS, *dict.fromkeys(extra_cols), *_EXTRA]]
    deduped, counts = _deduplicate(both)
    out = deduped if deduplicate else both.reset_index(drop=True)
    srcs = [get_source(k) for k in UPWORK_SOURCES]
    out.attrs = {
        "source": [s.url for s in srcs],
        "source_key": list(UPWORK_SOURCES),
        "repository": srcs[0].repository,
        "commit": srcs[0].commit,
        "licence": srcs[0].licence,
        "sha256": [s.sha256 for s in srcs],
        "citation": citation(srcs[0].citation),
        "duplicates": counts,
        "deduplicated": bool(deduplicate),
    }
    if not canonical:
        return out
    from laborai.data import read_job_posts

    res = read_job_posts(out, mapping="upwork_2023", on_invalid="quarantine")
    return res
