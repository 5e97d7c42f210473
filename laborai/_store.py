"""Read-only results and their safe save/load format.

Every laborai result is a frozen dataclass. :func:`deep_freeze` makes its contents read-only
too: arrays become non-writeable views, mappings :class:`FrozenMapping` (picklable, unlike
``types.MappingProxyType``), lists tuples; DataFrames are handed out as copy-on-write shallow
copies by :class:`laborai._results.ResultMixin`, so that changing what a result returns
never changes the result.

**File format** (``result.save(path)``, :func:`load`): one ZIP archive holding

- ``result.json`` -- ``{"format": "laborai-result", "format_version": 1, "laborai_version",
  "class": "<module>:<qualname>", "tree": ...}``; the tree is the result's fields in JSON with
  tagged objects for what JSON lacks (``__tuple__``, ``__mapping__`` with encoded keys,
  ``__float__`` for NaN/inf, ``__timestamp__``, ``__dataclass__`` for nested laborai
  dataclasses, ``__ndarray__``/``__frame__`` pointing to members below);
- ``arrays/<n>.npy`` -- NumPy arrays in ``.npy`` format, read with ``allow_pickle=False``
  (object arrays are stored in the JSON tree instead);
- ``frames/<n>.parquet`` -- DataFrames and Series in Parquet (index kept); frames Parquet
  cannot hold (mixed-type object columns) are stored in the JSON tree, column by column.

Nothing is unpickled and no code is imported from the file: the classes a file may name are
laborai's own dataclasses in the modules listed in :data:`_ALLOWED_MODULES`.
"""

from __future__ import annotations

import dataclasses
import importlib
import io
import json
import math
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from laborai.errors import DataValidationError, LaborAIError

FORMAT = "laborai-result"
FORMAT_VERSION = 1
_ALLOWED_MODULES = (
    "laborai._results", "laborai.did.twfe", "laborai.did.cs", "laborai.did.cs._results",
    "laborai.did.sun_abraham",
    "laborai.did.sdid", "laborai.did.bacon", "laborai.did.honest", "laborai.did._honest_kernels",
    "laborai.did.inference", "laborai._store", "laborai.did.contdid", "laborai.did.ddd_gt",
    "laborai.did.imputation", "laborai.did.pretrends", "laborai.did._formula",
    "laborai.studies.compare", "laborai.studies.effects", "laborai.studies.realdata",
)


class FrozenMapping(Mapping[Any, Any]):
    """A read-only, picklable mapping (what results use for settings and provenance)."""

    __slots__ = ("_d",)
    _d: dict[Any, Any]

    def __init__(self, data: Mapping[Any, Any] | None = None) -> None:
        object.__setattr__(self, "_d", dict(data or {}))

    def __getitem__(self, key: Any) -> Any:
        return self._d[key]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._d)

    def __len__(self) -> int:
        return len(self._d)

    def __repr__(self) -> str:
        return f"FrozenMapping({self._d!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Mapping) and dict(self.items()) == dict(other.items())

    def __hash__(self) -> int:  # pragma: no cover - mappings of arrays are not hashable
        raise TypeError("FrozenMapping is not hashable")

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("FrozenMapping is read-only")

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenMapping, (self._d,))


def deep_freeze(value: Any) -> Any:
    """Read-only version of ``value`` (arrays, mappings, lists and tuples, recursively)."""
    if isinstance(value, np.ndarray):
        v = value.view()
        v.flags.writeable = False
        return v
    if isinstance(value, (pd.DataFrame, pd.Series)):
        return value.copy(deep=False)
    if isinstance(value, FrozenMapping):
        return value
    if isinstance(value, Mapping):
        return FrozenMapping({k: deep_freeze(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
        return tuple(deep_freeze(v) for v in value)
    return value


# ------------------------------------------------------------------------------ encoding
class _Writer:
    def __init__(self, zf: zipfile.ZipFile) -> None:
        self.zf = zf
        self.n = 0

    def member(self, folder: str, suffix: str, payload: bytes) -> str:
        name = f"{folder}/{self.n}{suffix}"
        self.n += 1
        self.zf.writestr(name, payload)
        return name

    def encode(self, v: Any, where: str) -> Any:
        if v is None or isinstance(v, (bool, str)):
            return v
        if isinstance(v, (int, np.integer)) and not isinstance(v, np.bool_):
            return int(v)
        if isinstance(v, np.bool_):
            return bool(v)
        if isinstance(v, (float, np.floating)):
            f = float(v)
            return f if math.isfinite(f) else {"__float__": repr(f)}
        if isinstance(v, pd.Timestamp):
            return {"__timestamp__": v.isoformat()}
        if v is pd.NaT:
            return {"__nat__": True}
        if isinstance(v, np.datetime64):
            return {"__datetime64__": str(v)}
        if isinstance(v, np.ndarray):
            if v.dtype.kind == "O":
                return {"__objarray__": [self.encode(x, where) for x in v.ravel().tolist()],
                        "shape": list(v.shape)}
            buf = io.BytesIO()
            np.save(buf, np.ascontiguousarray(v), allow_pickle=False)
            return {"__ndarray__": self.member("arrays", ".npy", buf.getvalue())}
        if isinstance(v, pd.Series):
            return {"__series__": self.encode(v.to_frame(name="__value__"), where),
                    "name": self.encode(v.name, where)}
        if isinstance(v, pd.DataFrame):
            return self._frame(v, where)
        if dataclasses.is_dataclass(v) and not isinstance(v, type):
            cls = type(v)
            if cls.__module__ not in _ALLOWED_MODULES:
                raise LaborAIError(f"save: {where} holds a {cls.__module__}.{cls.__qualname__}, "
                                   "which the result format does not store.")
            return {"__dataclass__": f"{cls.__module__}:{cls.__qualname__}",
                    "fields": {f.name: self.encode(object.__getattribute__(v, f.name),
                                                   f"{where}.{f.name}")
                               for f in dataclasses.fields(v)}}
        if isinstance(v, Mapping):
            return {"__mapping__": [[self.encode(k, where), self.encode(x, f"{where}[{k!r}]")]
                                    for k, x in v.items()]}
        if isinstance(v, tuple):
            return {"__tuple__": [self.encode(x, where) for x in v]}
        if isinstance(v, list):
            return [self.encode(x, where) for x in v]
        raise LaborAIError(f"save: {where} is a {type(v).__name__}, which the result format "
                           "does not store.")

    def _frame(self, df: pd.DataFrame, where: str) -> Any:
        if all(isinstance(c, str) for c in df.columns) and df.columns.is_unique:
            try:
                buf = io.BytesIO()
                df.to_parquet(buf, index=True)
                back = pd.read_parquet(io.BytesIO(buf.getvalue()))
                pd.testing.assert_frame_equal(back, df, check_exact=True)
                return {"__frame__": self.member("frames", ".parquet", buf.getvalue())}
            except Exception:
                pass
        return {"__frame_json__": {
            "columns": [self.encode(c, where) for c in df.columns],
            "index": self.encode(df.index.to_numpy(dtype=object), where),
            "index_name": self.encode(df.index.name, where),
            "dtypes": [str(t) for t in df.dtypes],
            "data": [self.encode(df.iloc[:, i].to_numpy(dtype=object), where)
                     for i in range(df.shape[1])]}}


class _Reader:
    def __init__(self, zf: zipfile.ZipFile, path: str) -> None:
        self.zf = zf
        self.path = path

    def _bytes(self, name: str) -> bytes:
        try:
            return self.zf.read(name)
        except KeyError:
            raise DataValidationError(f"{self.path}: member {name!r} named in result.json is "
                                      "missing from the archive.") from None

    def decode(self, v: Any) -> Any:
        if isinstance(v, list):
            return [self.decode(x) for x in v]
        if not isinstance(v, dict):
            return v
        if "__float__" in v:
            return float(v["__float__"])
        if "__timestamp__" in v:
            return pd.Timestamp(v["__timestamp__"])
        if "__nat__" in v:
            return pd.NaT
        if "__datetime64__" in v:
            return np.datetime64(v["__datetime64__"])
        if "__tuple__" in v:
            return tuple(self.decode(x) for x in v["__tuple__"])
        if "__mapping__" in v:
            return {_hashable(self.decode(k)): self.decode(x) for k, x in v["__mapping__"]}
        if "__ndarray__" in v:
            return np.load(io.BytesIO(self._bytes(v["__ndarray__"])), allow_pickle=False)
        if "__objarray__" in v:
            out = np.empty(len(v["__objarray__"]), dtype=object)
            out[:] = [self.decode(x) for x in v["__objarray__"]]
            return out.reshape(v["shape"])
        if "__frame__" in v:
            return pd.read_parquet(io.BytesIO(self._bytes(v["__frame__"])))
        if "__series__" in v:
            s = self.decode(v["__series__"])["__value__"]
            s.name = self.decode(v["name"])
            return s
        if "__frame_json__" in v:
            f = v["__frame_json__"]
            cols = [_hashable(self.decode(c)) for c in f["columns"]]
            data = {}
            for c, col, dt in zip(cols, f["data"], f["dtypes"], strict=True):
                arr = self.decode(col)
                s = pd.Series(arr, dtype=object)
                try:
                    s = s.astype(dt)
                except (TypeError, ValueError):
                    pass
                data[c] = s.to_numpy()
            df = pd.DataFrame(data, columns=cols)
            df.index = pd.Index(list(self.decode(f["index"])), name=self.decode(f["index_name"]))
            for c, dt in zip(cols, f["dtypes"], strict=True):
                try:
                    df[c] = df[c].astype(dt)
                except (TypeError, ValueError):
                    pass
            if len(df.index) and all(isinstance(i, int) for i in df.index):
                if list(df.index) == list(range(len(df))):
                    df.index = pd.RangeIndex(len(df), name=df.index.name)
            return df
        if "__dataclass__" in v:
            cls = _resolve(v["__dataclass__"], self.path)
            kw = {k: self.decode(x) for k, x in v["fields"].items()}
            init = {f.name for f in dataclasses.fields(cls) if f.init}
            obj = cls(**{k: x for k, x in kw.items() if k in init})
            for k, x in kw.items():
                if k not in init:
                    object.__setattr__(obj, k, deep_freeze(x))
            return obj
        return {k: self.decode(x) for k, x in v.items()}


def _hashable(k: Any) -> Any:
    return tuple(_hashable(x) for x in k) if isinstance(k, (list, tuple)) else k


def _resolve(name: str, path: str) -> type:
    mod, _, qual = name.partition(":")
    if mod not in _ALLOWED_MODULES:
        raise DataValidationError(f"{path}: class {name!r} is not a laborai result class; "
                                  "refusing to load it.")
    obj: Any = importlib.import_module(mod)
    for part in qual.split("."):
        obj = getattr(obj, part, None)
    if not (isinstance(obj, type) and dataclasses.is_dataclass(obj)):
        raise DataValidationError(f"{path}: {name!r} is not a laborai result class.")
    return obj


def save(result: Any, path: str | Path) -> Path:
    """Write ``result`` to ``path`` (a ZIP archive; see the module docstring)."""
    from laborai import __version__

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        w = _Writer(zf)
        tree = w.encode(result, type(result).__name__)
        head = {"format": FORMAT, "format_version": FORMAT_VERSION, "laborai_version": __version__,
                "class": tree["__dataclass__"], "tree": tree}
        info = zipfile.ZipInfo("result.json", date_time=(1980, 1, 1, 0, 0, 0))
        zf.writestr(info, json.dumps(head, sort_keys=True, indent=1))
    tmp.replace(path)
    return path


def load(path: str | Path, expected: type | None = None) -> Any:
    """Read a result written by ``result.save(path)``.

    Parameters
    ----------
    path : str or pathlib.Path
        The archive.
    expected : type, optional
        Refuse a file holding another result class.

    Raises
    ------
    DataFileNotFoundError
        No such file.
    DataValidationError
        Not a laborai result archive, an unknown format version, a class that is not a
        laborai result, or a damaged member.
    """
    from laborai.errors import DataFileNotFoundError

    p = Path(path)
    if not p.is_file():
        raise DataFileNotFoundError(f"{p}: no such result file.")
    try:
        with zipfile.ZipFile(p) as zf:
            head = json.loads(zf.read("result.json"))
            if head.get("format") != FORMAT:
                raise DataValidationError(f"{p}: not a laborai result file (format "
                                          f"{head.get('format')!r}).")
            if head.get("format_version") != FORMAT_VERSION:
                raise DataValidationError(
                    f"{p}: result format version {head.get('format_version')!r}; this laborai "
                    f"reads version {FORMAT_VERSION}.")
            obj = _Reader(zf, str(p)).decode(head["tree"])
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError, OSError, ValueError,
            TypeError) as exc:
        if isinstance(exc, LaborAIError):
            raise
        raise DataValidationError(f"{p}: not a readable laborai result file "
                                  f"({type(exc).__name__}: {exc}).") from None
    if expected is not None and not isinstance(obj, expected):
        raise DataValidationError(f"{p}: holds a {type(obj).__name__}, not a "
                                  f"{expected.__name__}.")
    return obj
