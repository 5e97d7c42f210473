"""la.datasets.upwork_snapshot: pinned files, hash verification, row counts, duplicates, messages.

The two real Upwork exports are read from ``LABORAI_DATA_DIR`` (``../shared/data/upwork/``); a
missing directory makes these tests fail, never skip. The network is never touched.
"""

from __future__ import annotations

import csv
import hashlib
import shutil
from pathlib import Path

import pandas as pd
import pytest
from _shared import DATA_DIR, isolate_data_env

import laborai as la
import laborai.datasets as ds
from laborai.datasets._loading import clear_cache
from laborai.errors import DataFileNotFoundError, DataValidationError, OptionError

FILES = {"upwork_2023_01_01": "upwork/1_1_2023_general.csv",
         "upwork_2023_01_03": "upwork/1_3_2023_general.csv"}
LICENCE = "none stated (research/educational use)"


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate_data_env(monkeypatch, tmp_path)
    clear_cache()


def _records(rel: str) -> list[dict[str, str]]:
    """The published records, read with the csv module (independent of the loader)."""
    with (DATA_DIR / rel).open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_pins_equal_the_manifest_and_the_files() -> None:
    table = ds.sources().set_index("key")
    manifest = (DATA_DIR / "MANIFEST.md").read_text(encoding="utf-8")
    for key, rel in FILES.items():
        row = table.loc[key]
        assert row["relative_path"] == rel
        assert row["repository"] == "Canerakcasu/data"
        assert row["commit"] == "4e2519bace70817c2a2e45ff2b6ae0107303e08a"
        assert row["licence"] == LICENCE
        assert row["url"] == ("https://raw.githubusercontent.com/Canerakcasu/data/"
                              f"4e2519bace70817c2a2e45ff2b6ae0107303e08a/{rel.split('/')[1]}")
        payload = (DATA_DIR / rel).read_bytes()
        assert len(payload) == row["bytes"]
        assert hashlib.sha256(payload).hexdigest() == row["sha256"]
        assert f"| {rel} | Canerakcasu/data |" in manifest and row["sha256"] in manifest


def test_raw_rows_and_columns_as_published() -> None:
    raw = ds.upwork_snapshot(deduplicate=False)
    r1, r3 = _records(FILES["upwork_2023_01_01"]), _records(FILES["upwork_2023_01_03"])
    assert (len(r1), len(r3)) == (4995, 4996)
    assert len(raw) == 9991 and raw.attrs["deduplicated"] is False
    assert raw["source_file"].value_counts().to_dict() == {"1_3_2023_general.csv": 4996,
                                                          "1_1_2023_general.csv": 4995}
    assert list(raw.columns[:len(ds.UPWORK_COLUMNS)]) == list(ds.UPWORK_COLUMNS)
    assert list(raw.columns[-2:]) == ["source_file", "source_row"]
    assert set(raw.columns) == set(r1[0]) | set(r3[0]) | {"source_file", "source_row"}
    # every field is the published text (empty = missing); spot-check whole records
    for rows, name in ((r1, "1_1_2023_general.csv"), (r3, "1_3_2023_general.csv")):
        part = raw[raw["source_file"] == name].reset_index(drop=True)
        assert part["source_row"].tolist() == list(range(1, len(rows) + 1))
        for i in (0, 1234, len(rows) - 1):
            for col, text in rows[i].items():
                got = part.loc[i, col]
                assert (pd.isna(got) and text == "") or got == text, (name, i, col)
    assert raw["uid"].str.fullmatch(r"\d{19}").all()  # identifiers kept as text
    only_1 = raw.loc[raw["source_file"] == "1_3_2023_general.csv",
                     "client_payment_verification_status"]
    assert only_1.isna().all()


def test_duplicates_rule_and_counts() -> None:
    raw = ds.upwork_snapshot(deduplicate=False)
    snap = ds.upwork_snapshot()
    assert len(snap) == 9761 == raw["uid"].nunique() and snap["uid"].is_unique
    assert snap.attrs["duplicates"] == {
        "rows_read": 9991, "exact_repeats_within_file": 223, "other_repeats_within_file": 0,
        "cross_file_duplicates": 7, "rows": 9761}
    d = snap.attrs["duplicates"]
    assert d["rows_read"] == (d["exact_repeats_within_file"] + d["other_repeats_within_file"]
                              + d["cross_file_duplicates"] + d["rows"])
    # posts in both files: the latest observation (largest job_ts) is kept; here the later file
    by_file = raw.groupby("uid")["source_file"].nunique()
    both = by_file[by_file > 1].index
    assert len(both) == 7
    kept = snap.set_index("uid").loc[both]
    assert (kept["source_file"] == "1_3_2023_general.csv").all()
    latest = raw[raw["uid"].isin(both)].groupby("uid")["job_ts"].apply(
        lambda s: s.astype("int64").max())
    assert (kept["job_ts"].astype("int64") == latest.loc[kept.index]).all()
    # exact repeats: the dropped rows equal a kept row in every published column
    published = [c for c in raw.columns if c not in ("source_file", "source_row")]
    assert raw.duplicated([*published, "source_file"]).sum() == 223
    # nothing else is lost: every uid is there, order is file then row
    assert set(snap["uid"]) == set(raw["uid"])
    assert snap[["source_file", "source_row"]].equals(
        snap[["source_file", "source_row"]].sort_values(["source_file", "source_row"]))


def test_provenance_and_licence() -> None:
    snap = ds.upwork_snapshot()
    a = snap.attrs
    assert a["licence"] == LICENCE and a["repository"] == "Canerakcasu/data"
    assert a["source_key"] == list(FILES)
    assert len(a["source"]) == 2 and all(u.startswith("https://raw.githubusercontent.com/"
                                                      "Canerakcasu/data/4e2519b") for u in a["source"])
    assert "no licence" in a["citation"]
    doc = ds.upwork_snapshot.__doc__ or ""
    assert "Licence" in doc and "no licence" in " ".join(doc.split())


def test_missing_files_say_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("LABORAI_DATA_DIR", str(empty))
    with pytest.raises(DataFileNotFoundError) as info:
        ds.upwork_snapshot()
    msg = str(info.value)
    src = ds.sources().set_index("key").loc["upwork_2023_01_01"]
    assert "'upwork/1_1_2023_general.csv'" in msg and "LABORAI_OFFLINE is set" in msg
    assert src["url"] in msg and src["sha256"] in msg and str(src["bytes"]) in msg
    assert str(empty / "upwork" / "1_1_2023_general.csv") in msg and "save it unchanged" in msg


def test_tampered_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "data"
    for rel in FILES.values():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(DATA_DIR / rel, root / rel)
        (root / rel).chmod(0o644)
    target = root / FILES["upwork_2023_01_03"]
    target.write_bytes(target.read_bytes().replace(b"Expert", b"Expart", 1))
    monkeypatch.setenv("LABORAI_DATA_DIR", str(root))
    with pytest.raises(DataValidationError, match=r"does not match the pinned source "
                                                  r"'upwork_2023_01_03'"):
        ds.upwork_snapshot()


def test_canonical_posts_and_panel() -> None:
    res = ds.upwork_snapshot(canonical=True)
    data, rejected = res
    assert len(data) + len(rejected) == 9761
    assert len(data) / 9761 >= 0.99
    assert data["post_id"].is_unique and {"source_file", "source_row"} <= set(data.columns)
    panel = la.build_panel(data, freq="week")
    assert panel["n_posts"].sum() == len(data)
    n_none = int((data["value_basis"] == "none").sum())
    assert panel.attrs["accounting"]["posts_unknown_value"] == n_none > 0
    assert panel.loc[panel["value_tier"] == "unknown", "n_posts"].sum() == n_none
    with pytest.raises(OptionError, match="canonical=True needs deduplicate=True"):
        ds.upwork_snapshot(canonical=True, deduplicate=False)
