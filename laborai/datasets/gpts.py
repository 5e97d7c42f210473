"""Occupation-level exposure to large language models ("GPTs are GPTs", Science 2024)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from laborai.datasets._loading import check_columns, check_no_missing, check_unique, load
from laborai.datasets._sources import Source
from laborai.errors import DataValidationError

__all__ = ["EXPOSURE_COLUMNS", "gpts_exposure"]

#: Source column -> laborai column of :func:`gpts_exposure`.
_RENAME: dict[str, str] = {
    "O*NET-SOC Code": "onet_soc_code",
    "Title": "title",
    "dv_rating_alpha": "gpt4_alpha",
    "dv_rating_beta": "gpt4_beta",
    "dv_rating_gamma": "gpt4_gamma",
    "human_rating_alpha": "human_alpha",
    "human_rating_beta": "human_beta",
    "human_rating_gamma": "human_gamma",
}

#: Exposure columns of :func:`gpts_exposure`, in order.
EXPOSURE_COLUMNS: tuple[str, ...] = (
    "gpt4_alpha",
    "gpt4_beta",
    "gpt4_gamma",
    "human_alpha",
    "human_beta",
    "human_gamma",
)

_CODE_PATTERN = r"^\d{2}-\d{4}\.\d{2}$"


def _parse_gpts(path: Path, src: Source) -> pd.DataFrame:
    raw = pd.read_csv(path, dtype={"O*NET-SOC Code": str, "Title": str})
    check_columns(raw, list(_RENAME), path)
    check_no_missing(raw, list(_RENAME), path)
    out = raw[list(_RENAME)].rename(columns=_RENAME)
    out["onet_soc_code"] = out["onet_soc_code"].astype(str)
    out["title"] = out["title"].astype(str)
    bad = out.loc[~out["onet_soc_code"].str.match(_CODE_PATTERN), "onet_soc_code"]
    if len(bad):
        raise DataValidationError(
            f"File {str(path)!r}, column 'O*NET-SOC Code': rule 'NN-NNNN.NN' broken in "
            f"{len(bad)} row(s); first offending values: {bad.head(5).tolist()}."
        )
    check_unique(out, ["onet_soc_code"], path)
    for col in EXPOSURE_COLUMNS:
        values = out[col].astype("float64")
        outside = values[(values < 0) | (values > 1)]
        if len(outside):
            raise DataValidationError(
                f"File {str(path)!r}, column {col!r}: rule 'share between 0 and 1' broken in "
                f"{len(outside)} row(s); first offending values: {outside.head(5).tolist()}."
            )
        out[col] = values
    return out.reset_index(drop=True)


def gpts_exposure() -> pd.DataFrame:
    """Occupation-level exposure of tasks to large language models (Eloundou et al. 2024).

    Returns
    -------
    pandas.DataFrame
        923 rows, one per O*NET-SOC occupation, in the source order:

        - ``onet_soc_code`` (str): O*NET-SOC 2019 code, e.g. ``"15-1252.00"``;
        - ``title`` (str): O*NET occupation title;
        - ``gpt4_alpha``, ``gpt4_beta``, ``gpt4_gamma`` (float64): GPT-4 ratings (source
          columns ``dv_rating_alpha``, ``dv_rating_beta``, ``dv_rating_gamma``);
        - ``human_alpha``, ``human_beta``, ``human_gamma`` (float64): ratings by human annotators
          (source columns ``human_rating_*``).

        ``attrs`` holds ``source`` (pinned URL), ``citation``, ``licence`` and ``sha256``.

    Raises
    ------
    DataFileNotFoundError
        If the file is not available locally and cannot be downloaded.
    DataValidationError
        If the file's hash or layout differs from the pinned version.

    Notes
    -----
    Each task of an occupation is rated E0 (no exposure), E1 (an LLM alone cuts the time to do
    it by at least half at equal quality) or E2 (it would with software built on an LLM). The
    occupation scores are shares of its tasks:
    ``alpha = E1``, ``beta = E1 + 0.5 * E2`` and ``gamma = E1 + E2``, all between 0 and 1.
    ``beta`` is the paper's headline measure. Scores describe task-level technical exposure,
    not predicted employment effects or adoption.

    References
    ----------
    Eloundou, T., Manning, S., Mishkin, P., and Rock, D. (2024). GPTs are GPTs: Labor market
    impact potential of LLMs. *Science*, 384(6702), 1306-1308.
    https://doi.org/10.1126/science.adj0998. Data: https://github.com/openai/GPTs-are-GPTs (MIT).

    Examples
    --------
    >>> import laborai as la
    >>> g = la.datasets.gpts_exposure()  # doctest: +SKIP
    >>> g.set_index("onet_soc_code").loc["15-1252.00", "title"]  # doctest: +SKIP
    'Software Developers'
    """
    return load("gpts_occ_level", _parse_gpts)
