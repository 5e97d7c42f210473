"""The readers on real Upwork exports (LABORAI_DATA_DIR/upwork/, see its README.md).

Each file is read with the ready mapping ``upwork_2023`` and checked against counts made
independently of the reader: physical CSV records (the ``csv`` module), exact duplicate records
(pandas), UTC dates (pandas), budget types. Every rejected row must carry a reason a person
agrees with: an exact copy of an earlier record, or a client country that no longer exists.
Run with ``-s`` to print the measured numbers.
"""

from __future__ import annotations

import csv
import time
import warnings
from pathlib import Path

import pandas as pd
import pytest

import laborai as la
from laborai.data.readers import QuarantineWarning

FILES = ("1_1_2023_general.csv", "1_3_2023_general.csv")
#: Client countries that are rightly refused: former countries with no current ISO code.
FORMER_COUNTRIES = {"Netherlands Antilles"}


def _path(data_dir: Path, name: str) -> Path:
    path = data_dir / "upwork" / name
    if not path.is_file():
        pytest.fail(f"real Upwork export {path} not found; set LABORAI_DATA_DIR to the shared "
                    "data folder (see README).")
    return path


@pytest.fixture(scope="module")
def reads(data_dir: Path) -> dict[str, tuple[la.ReadResult, pd.DataFrame, float]]:
    out = {}
    for name in FILES:
        path = _path(data_dir, name)
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("error", QuarantineWarning)
            res = la.read_job_posts(path, mapping="upwork_2023", on_invalid="quarantine")
        seconds = time.perf_counter() - t0
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
        out[name] = (res, raw, seconds)
    return out


@pytest.mark.parametrize("name", FILES)
def test_every_physical_record_is_read(reads: dict, data_dir: Path, name: str) -> None:
    res, raw, _ = reads[name]
    with _path(data_dir, name).open(newline="", encoding="utf-8") as fh:
        records = sum(1 for rec in csv.reader(fh) if rec) - 1  # minus the header
    assert res.n_read == records == len(raw)
    assert res.n_read == len(res.data) + len(res.rejected)
    assert res.n_lines is not None and res.n_lines > res.n_read  # titles with line breaks


@pytest.mark.parametrize("name", FILES)
def test_at_least_99_percent_of_posts_are_kept(reads: dict, name: str) -> None:
    res, raw, _ = reads[name]
    distinct = raw["uid"].nunique()
    assert len(res.data) >= 0.99 * distinct
    assert res.data["post_id"].is_unique
    not_copies = len(raw) - int(raw.duplicated().sum())
    assert len(res.data) >= 0.99 * not_copies


@pytest.mark.parametrize("name", FILES)
def test_every_rejected_row_has_a_reason_a_person_agrees_with(reads: dict, name: str) -> None:
    res, raw, _ = reads[name]
    rej = res.rejected
    assert set(rej["rule"]) <= {"duplicate_record", "country_known"}
    # duplicate_record: exactly the rows pandas finds to be exact copies of an earlier row
    copies = set((raw.index[raw.duplicated(keep="first")] + 1).tolist())
    flagged = set(rej.loc[rej["reason"].str.contains("exact copy"), "row"].tolist())
    assert flagged == copies
    # country_known: only former countries, named as such in the reason
    bad_country = rej[rej["reason"].str.contains("client_country")]
    assert set(bad_country["value_client_location_country"]) <= FORMER_COUNTRIES
    assert bad_country["reason"].str.contains("former country").all()
    assert (bad_country["rule"] == "country_known").all()


@pytest.mark.parametrize("name", FILES)
def test_values_agree_with_the_export(reads: dict, name: str) -> None:
    res, raw, _ = reads[name]
    data = res.data
    src = raw.drop_duplicates("uid").set_index("uid").loc[data["post_id"]]
    utc = pd.to_datetime(src["published_on"], utc=True).dt.tz_localize(None).dt.normalize()
    assert (data["posted_date"].to_numpy() == utc.to_numpy()).all()
    assert (data["budget_type"].to_numpy() == src["type"].to_numpy()).all()
    basis = {"fixed_budget": "fixed_budget", "hourly": "hourly_projection", "no_budget": "none"}
    assert (data["value_basis"].to_numpy() == src["type"].map(basis).to_numpy()).all()
    fixed = data["budget_type"] == "fixed_budget"
    assert (data.loc[fixed, "contract_value_usd"].to_numpy()
            == pd.to_numeric(src.loc[fixed.to_numpy(), "amount_amount"]).to_numpy()).all()
    assert data.loc[data["budget_type"] == "no_budget", "contract_value_usd"].isna().all()
    hourly = data["budget_type"] == "hourly"
    assert (data.loc[hourly, "contract_value_usd"] > 0).all()
    assert data["client_country"].str.fullmatch(r"[A-Z]{2}").all()
    us = (src["client_location_country"] == "United States").to_numpy()
    assert (data.loc[us, "client_country"] == "US").all()
    pairs = set(map(tuple, la.taxonomy.subcategories()[["category", "subcategory"]].to_numpy()))
    assert set(zip(data["category"], data["subcategory"], strict=True)) <= pairs
    assert res.mapping == "upwork_2023 v1"


def test_raise_mode_names_the_duplicate(data_dir: Path) -> None:
    with pytest.raises(la.DataValidationError,
                       match=r"(?s)1_1_2023_general\.csv: 1 of 4995 rows.*rule 'duplicate_record'"):
        la.read_job_posts(_path(data_dir, FILES[0]), mapping="upwork_2023")


def test_measured_numbers(reads: dict) -> None:
    """Print rows read, kept and rejected by reason for each file (run with -s)."""
    lines = []
    kept_ids: set[str] = set()
    for name in FILES:
        res, raw, seconds = reads[name]
        kept_ids |= set(res.data["post_id"])
        by_rule = res.rejected["rule"].value_counts().to_dict()
        lines.append(f"{name}: lines {res.n_lines}, records read {res.n_read}, distinct posts "
                     f"{raw['uid'].nunique()}, kept {len(res.data)} "
                     f"({len(res.data) / raw['uid'].nunique():.2%} of distinct posts), rejected "
                     f"{len(res.rejected)} {by_rule}; value basis "
                     f"{res.data['value_basis'].value_counts().to_dict()}; {seconds:.2f} s")
    lines.append(f"both files: {len(kept_ids)} distinct posts kept")
    print("\n" + "\n".join(lines))
    assert len(kept_ids) >= 9_700
