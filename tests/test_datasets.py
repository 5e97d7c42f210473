"""Tests of laborai.datasets loaders: resolution, verification, download, caching and schemas.

The pinned files are read from ``LABORAI_DATA_DIR`` (default ``<repo>/../shared/data``); a
missing directory makes these tests fail, never skip. The network is never touched: downloads
are disabled (``LABORAI_OFFLINE=1``) or served by a fake ``urlopen``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import shutil
import urllib.error
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _shared import DATA_DIR, isolate_data_env

import laborai.datasets as ds
from laborai.datasets import _fetch
from laborai.datasets._loading import clear_cache
from laborai.errors import DataFileNotFoundError, DataValidationError, OptionError

COUNTRIES = ["US", "GB", "DE", "FR", "CA", "AU"]


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate_data_env(monkeypatch, tmp_path)


def _raw_rows(rel: str) -> list[dict[str, str]]:
    """Read a pinned CSV with the csv module (independent of the loaders)."""
    with (DATA_DIR / rel).open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _manifest() -> dict[str, dict[str, str]]:
    rows = {}
    for line in (DATA_DIR / "MANIFEST.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 7 and cells[0].startswith(("indeed/", "exposure/", "upwork/")):
            rows[cells[0]] = dict(
                zip(
                    ["repository", "commit", "path_in_source", "licence", "bytes", "sha256"],
                    cells[1:],
                    strict=True,
                )
            )
    return rows


# --- the reference data must be there -------------------------------------------------------


def test_shared_data_directory_has_every_pinned_file() -> None:
    assert DATA_DIR.is_dir(), f"LABORAI_DATA_DIR {DATA_DIR} is missing"
    for rel in ds.sources()["relative_path"]:
        assert (DATA_DIR / rel).is_file(), f"missing {DATA_DIR / rel}"


def test_sources_table_matches_manifest() -> None:
    manifest = _manifest()
    table = ds.sources().set_index("relative_path")
    assert set(table.index) == set(manifest)
    for rel, pin in manifest.items():
        row = table.loc[rel]
        for field in ["repository", "commit", "path_in_source", "licence", "sha256"]:
            assert row[field] == pin[field], (rel, field)
        assert int(row["bytes"]) == int(pin["bytes"])
        assert row["url"] == (
            f"https://raw.githubusercontent.com/{pin['repository']}/{pin['commit']}/"
            f"{pin['path_in_source']}"
        )


def test_pinned_hashes_equal_actual_files() -> None:
    for src in ds.sources().itertuples():
        payload = (DATA_DIR / src.relative_path).read_bytes()
        assert len(payload) == src.bytes
        assert hashlib.sha256(payload).hexdigest() == src.sha256


# --- schemas and known values ---------------------------------------------------------------


@pytest.mark.parametrize("country", COUNTRIES)
def test_indeed_sector_postings_schema(country: str) -> None:
    df = ds.indeed_sector_postings(country)  # type: ignore[arg-type]
    raw = _raw_rows(f"indeed/job_postings_by_sector_{country}.csv")
    assert list(df.columns) == [
        "date",
        "country",
        "sector",
        "sector_id",
        "series",
        "postings_index",
    ]
    assert pd.api.types.is_datetime64_dtype(df["date"])
    assert df["postings_index"].dtype == np.float64
    assert len(df) == len(raw)  # no row dropped
    assert set(df["country"]) == {country}
    assert set(df["sector"]) == {r["display_name"] for r in raw}
    assert df["sector"].nunique() == df["sector_id"].nunique()
    assert set(df["series"]) == {"total postings"}
    assert not df.isna().any().any()
    # index = 100 on 2020-02-01 for every sector
    base = df[df["date"] == pd.Timestamp("2020-02-01")]
    assert len(base) == df["sector"].nunique()
    assert (base["postings_index"] == 100.0).all()
    # one value checked against the raw text
    r = next(r for r in raw if r["display_name"] == "Accounting" and r["date"] == "2020-02-02")
    got = df.loc[(df.sector == "Accounting") & (df.date == "2020-02-02"), "postings_index"]
    assert got.item() == float(r["indeed_job_postings_index"])
    assert df.attrs["source"].startswith("https://raw.githubusercontent.com/hiring-lab/")
    assert "Indeed Hiring Lab" in df.attrs["citation"]
    assert "CC BY 4.0" in df.attrs["citation"]


def test_indeed_sector_counts_and_ids() -> None:
    us = ds.indeed_sector_postings("US")
    assert len(us) == 78246
    assert us["sector"].nunique() == 46
    ids = dict(zip(us["sector"], us["sector_id"], strict=True))
    assert ids["Arts & Entertainment"] == "arts_and_entertainment"
    assert ids["IT Operations & Helpdesk"] == "it_operations_and_helpdesk"
    assert us["date"].min() == pd.Timestamp("2020-02-01")


def test_indeed_aggregate_postings() -> None:
    df = ds.indeed_aggregate_postings()
    raw = _raw_rows("indeed/aggregate_job_postings_US.csv")
    assert list(df.columns) == [
        "date",
        "country",
        "series",
        "postings_index_sa",
        "postings_index_nsa",
    ]
    assert len(df) == len(raw) == 4774
    assert set(df["series"]) == {"total postings", "new postings"}
    row = df[(df.series == "total postings") & (df.date == "2020-02-02")]
    assert row["postings_index_sa"].item() == 100.03
    assert row["postings_index_nsa"].item() == 100.05
    base = df[df.date == "2020-02-01"]
    assert (base[["postings_index_sa", "postings_index_nsa"]] == 100).all().all()
    with pytest.raises(OptionError, match=r"country must be one of 'US'; got 'GB'"):
        ds.indeed_aggregate_postings("GB")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kind", "rel", "column"),
    [
        ("ai", "indeed/AI_posting.csv", "AI_share_postings"),
        ("genai", "indeed/GenAI_posting.csv", "GenAI_share_postings"),
    ],
)
def test_indeed_ai_share(kind: str, rel: str, column: str) -> None:
    df = ds.indeed_ai_share(kind)  # type: ignore[arg-type]
    raw = _raw_rows(rel)
    assert list(df.columns) == ["date", "country", "kind", "share_percent"]
    assert len(df) == len(raw)
    assert set(df["kind"]) == {kind}
    assert set(df["country"]) == {"AU", "CA", "DE", "FR", "GB", "IE", "IT", "NL", "US"}
    assert df["share_percent"].between(0, 100).all()
    first = raw[0]
    got = df.loc[(df.country == first["jobcountry"]) & (df.date == first["date"]), "share_percent"]
    assert got.item() == float(first[column])
    assert df["date"].min() == pd.Timestamp("2019-01-01")


def test_indeed_ai_share_known_value() -> None:
    df = ds.indeed_ai_share("ai")
    got = df.loc[(df.country == "AU") & (df.date == "2019-01-01"), "share_percent"].item()
    assert got == 2.31409256370255


def test_indeed_sector_title_examples() -> None:
    df = ds.indeed_sector_title_examples()
    raw = _raw_rows("indeed/sector-job-title-examples.csv")
    assert list(df.columns) == ["sector", "sector_id", "rank", "job_title"]
    assert df["sector"].nunique() == len(raw) == 47
    assert len(df) == sum(len(r["job_titles"].split(",")) for r in raw)
    sw = df[df.sector == "Software Development"].sort_values("rank")
    assert sw["job_title"].tolist() == ["software engineer", "full stack developer"]
    assert df["rank"].dtype == np.int64


def test_gpts_exposure_schema_and_values() -> None:
    df = ds.gpts_exposure()
    raw = _raw_rows("exposure/gpts_are_gpts_occ_level.csv")
    assert list(df.columns) == ["onet_soc_code", "title", *ds.EXPOSURE_COLUMNS]
    assert len(df) == len(raw) == 923
    assert df["onet_soc_code"].is_unique
    for col in ds.EXPOSURE_COLUMNS:
        assert df[col].dtype == np.float64
        assert df[col].between(0, 1).all()
    # alpha <= beta <= gamma by construction (beta = E1 + E2/2, gamma = E1 + E2)
    for who in ["gpt4", "human"]:
        assert (df[f"{who}_alpha"] <= df[f"{who}_beta"] + 1e-12).all()
        assert (df[f"{who}_beta"] <= df[f"{who}_gamma"] + 1e-12).all()
    ceo = df.set_index("onet_soc_code").loc["11-1011.00"]
    assert ceo["title"] == "Chief Executives"
    assert ceo["gpt4_beta"] == 0.46
    assert ceo["human_beta"] == 0.35
    by_code = {r["O*NET-SOC Code"]: r for r in raw}
    for row in df.sample(20, random_state=np.random.default_rng(0).integers(1 << 31)).itertuples():
        r = by_code[row.onet_soc_code]
        assert row.title == r["Title"]
        assert row.gpt4_gamma == float(r["dv_rating_gamma"])
        assert row.human_alpha == float(r["human_rating_alpha"])
    assert "Eloundou" in df.attrs["citation"]
    assert "Science" in df.attrs["citation"]
    assert df.attrs["licence"] == "MIT"


def test_loaders_return_independent_copies() -> None:
    first = ds.gpts_exposure()
    first.loc[0, "gpt4_beta"] = -1.0
    first.attrs["citation"] = "changed"
    second = ds.gpts_exposure()
    assert second.loc[0, "gpt4_beta"] == 0.46
    assert "Eloundou" in second.attrs["citation"]


def test_option_errors() -> None:
    with pytest.raises(OptionError, match=r"country must be one of 'US', 'GB'.*; got 'UK'\."):
        ds.indeed_sector_postings("UK")  # type: ignore[arg-type]
    with pytest.raises(OptionError, match=r"kind must be one of 'ai', 'genai'; got 'llm'\."):
        ds.indeed_ai_share("llm")  # type: ignore[arg-type]
    with pytest.raises(OptionError, match=r"source key must be one of .*; got 'nope'\."):
        ds.data_path("nope")


def test_citations() -> None:
    assert ds.citation("indeed").startswith("Indeed Hiring Lab")
    assert "CC BY 4.0" in ds.citation("indeed")
    gpts = ds.citation("gpts")
    assert "Eloundou" in gpts and "Manning" in gpts and "Mishkin" in gpts and "Rock" in gpts
    assert "GPTs are GPTs" in gpts and "Science" in gpts and "2024" in gpts
    per_file = ds.citation("indeed_sector_US")
    assert "6594f59ac3ccca4fd767bd151e65e609189c0fae" in per_file
    with pytest.raises(OptionError, match=r"citation name must be one of 'indeed', 'gpts'"):
        ds.citation("bls")


# --- verification ---------------------------------------------------------------------------

REL = "indeed/sector-job-title-examples.csv"
KEY = "indeed_sector_title_examples"


def _copy_pinned(dst_root: Path, rel: str = REL) -> Path:
    dst = dst_root / rel
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(DATA_DIR / rel, dst)
    dst.chmod(0o644)
    return dst


def test_tampered_file_fails_hash_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "data"
    dst = _copy_pinned(root)
    payload = bytearray(dst.read_bytes())
    payload[20] = ord("X") if payload[20] != ord("X") else ord("Y")  # same size, one byte changed
    dst.write_bytes(bytes(payload))
    actual = hashlib.sha256(bytes(payload)).hexdigest()
    expected = ds.sources().set_index("key").loc[KEY, "sha256"]
    monkeypatch.setenv("LABORAI_DATA_DIR", str(root))
    with pytest.raises(DataValidationError) as info:
        ds.indeed_sector_title_examples()
    message = str(info.value)
    assert str(dst) in message
    assert f"sha256 {expected}" in message
    assert f"sha256 {actual}" in message


def test_truncated_file_fails_size_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "data"
    dst = _copy_pinned(root)
    dst.write_bytes(dst.read_bytes()[:-10])
    monkeypatch.setenv("LABORAI_DATA_DIR", str(root))
    with pytest.raises(DataValidationError, match=r"expected 2515 bytes .* got 2505 bytes"):
        ds.indeed_sector_title_examples()


def test_hash_checked_on_every_call(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "data"
    dst = _copy_pinned(root)
    monkeypatch.setenv("LABORAI_DATA_DIR", str(root))
    assert len(ds.indeed_sector_title_examples()) == 94  # parsed and cached in-process
    dst.write_bytes(dst.read_bytes().replace(b"architect", b"Architect", 1))
    with pytest.raises(DataValidationError, match="does not match the pinned source"):
        ds.indeed_sector_title_examples()


def test_absent_file_offline_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    cache = tmp_path / "cache"
    monkeypatch.setenv("LABORAI_DATA_DIR", str(empty))
    src = ds.sources().set_index("key").loc["gpts_occ_level"]
    with pytest.raises(DataFileNotFoundError) as info:
        ds.gpts_exposure()
    message = str(info.value)
    assert "exposure/gpts_are_gpts_occ_level.csv" in message
    assert str(empty / "exposure" / "gpts_are_gpts_occ_level.csv") in message
    assert str(cache / "exposure" / "gpts_are_gpts_occ_level.csv") in message
    assert src["url"] in message
    assert src["sha256"] in message
    assert "LABORAI_OFFLINE" in message
    assert isinstance(info.value, FileNotFoundError)


def test_absent_file_download_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LABORAI_DATA_DIR", str(tmp_path / "nowhere"))
    monkeypatch.setenv("LABORAI_OFFLINE", "0")
    seen: list[str] = []

    def failing(url: str, timeout: float) -> None:
        seen.append(url)
        raise urllib.error.URLError("no route to host")

    monkeypatch.setattr(_fetch.urllib.request, "urlopen", failing)
    with pytest.raises(DataFileNotFoundError, match=r"the download failed \(URLError"):
        ds.indeed_sector_title_examples()
    assert seen == [ds.sources().set_index("key").loc[KEY, "url"]]
    assert not (tmp_path / "cache" / REL).exists()


class _FakeResponse(io.BytesIO):
    def __enter__(self) -> _FakeResponse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def test_download_writes_verified_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LABORAI_DATA_DIR", str(tmp_path / "nowhere"))
    monkeypatch.setenv("LABORAI_OFFLINE", "0")
    calls: list[tuple[str, float]] = []
    payload = (DATA_DIR / REL).read_bytes()

    def serve(url: str, timeout: float) -> _FakeResponse:
        calls.append((url, timeout))
        return _FakeResponse(payload)

    monkeypatch.setattr(_fetch.urllib.request, "urlopen", serve)
    df = ds.indeed_sector_title_examples()
    cached = tmp_path / "cache" / REL
    assert cached.read_bytes() == payload
    assert len(calls) == 1
    assert calls[0][0].endswith("/8049a926080d19b7332edfd1eafd9d0dd4e5179b/" + REL.split("/")[1])
    assert calls[0][1] > 0
    assert not list(cached.parent.glob("*.part"))  # atomic write left no temporary file
    assert len(df) == 94
    # second call: served from the cache, no new download
    again = ds.indeed_sector_title_examples()
    assert len(calls) == 1
    pd.testing.assert_frame_equal(df, again)


def test_download_with_wrong_content_is_rejected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LABORAI_DATA_DIR", str(tmp_path / "nowhere"))
    monkeypatch.setenv("LABORAI_OFFLINE", "0")
    bad = (DATA_DIR / REL).read_bytes().replace(b"cashier", b"CASHIER")
    monkeypatch.setattr(_fetch.urllib.request, "urlopen", lambda url, timeout: _FakeResponse(bad))
    with pytest.raises(
        DataValidationError, match=r"Downloaded content of https://raw\.githubusercontent\.com/"
    ):
        ds.indeed_sector_title_examples()
    assert not (tmp_path / "cache" / REL).exists()


def test_cache_used_when_data_dir_unset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LABORAI_DATA_DIR")
    _copy_pinned(tmp_path / "cache")
    assert ds.data_path(KEY) == tmp_path / "cache" / REL
    assert len(ds.indeed_sector_title_examples()) == 94


def test_tampered_cache_is_rejected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LABORAI_DATA_DIR")
    dst = _copy_pinned(tmp_path / "cache")
    dst.write_bytes(dst.read_bytes() + b"\n")
    with pytest.raises(DataValidationError, match=r"delete it so that laborai downloads it"):
        ds.indeed_sector_title_examples()


def test_data_dir_wins_over_cache(tmp_path: Path) -> None:
    _copy_pinned(tmp_path / "cache")
    assert ds.data_path(KEY) == DATA_DIR / REL


def test_cache_dir_resolution(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert ds.cache_dir() == tmp_path / "cache"
    monkeypatch.delenv("LABORAI_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    if os.name == "posix" and not os.uname().sysname == "Darwin":
        assert ds.cache_dir() == tmp_path / "xdg" / "laborai"


def test_bad_download_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LABORAI_DOWNLOAD_TIMEOUT", "soon")
    with pytest.raises(DataValidationError, match=r"positive number of seconds; got 'soon'"):
        _fetch.download_timeout()


def test_layout_error_names_file_and_columns(tmp_path: Path) -> None:
    """A parser given a file with the wrong layout raises, naming file and columns."""
    from laborai.datasets.indeed import _parse_sector

    bad = tmp_path / "bad.csv"
    bad.write_text("date,jobcountry,value\n2020-02-01,US,1\n", encoding="utf-8")
    with pytest.raises(DataValidationError, match=r"bad\.csv.*missing column\(s\) 'indeed_job"):
        _parse_sector(bad, _source("indeed_sector_US"))


def test_bad_dates_are_reported(tmp_path: Path) -> None:
    from laborai.datasets.indeed import _parse_ai_share

    bad = tmp_path / "ai.csv"
    bad.write_text(
        "date,jobcountry,AI_share_postings\n2020-02-01,US,1.0\n2020-13-01,US,2.0\n",
        encoding="utf-8",
    )
    with pytest.raises(
        DataValidationError, match=r"'date as YYYY-MM-DD' broken in 1 row.*2020-13-01"
    ):
        _parse_ai_share(bad, _source("indeed_ai_posting"))


def _source(key: str) -> ds.Source:
    from laborai.datasets._sources import get_source

    return get_source(key)


def teardown_module() -> None:
    clear_cache()


def test_interrupted_download_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import http.client

    monkeypatch.setenv("LABORAI_DATA_DIR", str(tmp_path / "nowhere"))
    monkeypatch.setenv("LABORAI_OFFLINE", "0")

    def broken(url: str, timeout: float) -> None:
        raise http.client.IncompleteRead(b"partial")

    monkeypatch.setattr(_fetch.urllib.request, "urlopen", broken)
    with pytest.raises(DataFileNotFoundError, match=r"the download failed \(IncompleteRead"):
        ds.indeed_sector_title_examples()
    assert not (tmp_path / "cache" / REL).exists()
