"""Apache Spark engine of :func:`laborai.build_panel`: the same SQL as DuckDB, transpiled.

:func:`laborai.build_panel` writes its SQL once, in DuckDB's dialect. With ``engine="spark"``
every statement is transpiled to Spark SQL with :mod:`sqlglot` and run on a
:class:`pyspark.sql.SparkSession`; only the small aggregates (the panel's cells and the
check counts) are collected to pandas. One rewrite is Spark-specific: DuckDB's
``timezone('UTC', x)`` (zoned timestamp to UTC wall clock) has no Spark function, and while
:func:`build_panel` runs the session's time zone is set to UTC (and restored afterwards), so
``x`` itself is already in UTC.

PySpark is an optional dependency (``pip install "laborai[spark]"``) and needs a Java 17+
runtime from the system; without either, a :class:`SparkUnavailableError` says how to get it.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from laborai.errors import (
    DataFileNotFoundError,
    DataValidationError,
    LaborAIError,
    OptionError,
    SparkUnavailableError,
)

__all__ = ["SparkUnavailableError", "flag_posts", "local_session", "to_spark_sql"]

#: How to get a Java runtime, quoted by the errors below.
JAVA_HINT = (
    "PySpark needs a Java 17 (or newer) runtime: on Debian/Ubuntu `sudo apt-get install "
    "openjdk-17-jre-headless`, on macOS `brew install openjdk@17`, elsewhere "
    "https://adoptium.net; then make `java` available on PATH or set JAVA_HOME to its folder."
)
PYSPARK_HINT = 'Install the Spark extra: pip install "laborai[spark]" (PySpark from PyPI).'

#: Settings of the session laborai starts when none is given (see docs/spark.md).
LOCAL_CONF = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "4",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.driver.memory": "1g",
}




def _pyspark() -> Any:
    try:
        import pyspark.sql
    except ImportError as err:
        raise SparkUnavailableError(f"engine='spark' needs PySpark, which is not installed. "
                                    f"{PYSPARK_HINT}") from err
    return pyspark.sql


def check_java() -> str:
    """The ``java`` executable PySpark will start; :class:`SparkUnavailableError` if none."""
    home = os.environ.get("JAVA_HOME")
    if home:
        java = Path(home) / "bin" / "java"
        if not java.is_file():
            raise SparkUnavailableError(
                f"engine='spark': JAVA_HOME is set to {home!r} but {java} does not exist. "
                f"{JAVA_HINT}")
        return str(java)
    found = shutil.which("java")
    if found is None:
        raise SparkUnavailableError(f"engine='spark': no Java runtime found (no `java` on PATH "
                                    f"and JAVA_HOME unset). {JAVA_HINT}")
    return found


def local_session(master: str = "local[2]", conf: dict[str, str] | None = None) -> Any:
    """Start (or reuse) a local :class:`pyspark.sql.SparkSession` with laborai's settings.

    Sets ``PYSPARK_PYTHON`` to the running interpreter (workers then import the same pyarrow)
    and ``SPARK_LOCAL_IP`` to 127.0.0.1 unless they are already set. The Spark UI is off.
    """
    sql = _pyspark()
    check_java()
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    builder = sql.SparkSession.builder.master(master).appName("laborai")
    for k, v in {**LOCAL_CONF, **(conf or {})}.items():
        builder = builder.config(k, v)
    try:
        with _quiet():
            return builder.getOrCreate()
    except Exception as err:  # the JVM did not start: Java missing, too old or broken
        raise SparkUnavailableError(
            f"engine='spark': the local Spark session could not start ({_first_line(err)}). "
            f"{JAVA_HINT}") from err


def command_session(master: str | None = None) -> tuple[Any, bool]:
    """The session of the ``laborai panel --engine spark`` command and whether it is new.

    Under ``spark-submit`` (or the ``pyspark`` shell) the session that the launcher configured
    (cluster master, executors) is used as it is; otherwise a local one (``master``, default
    ``local[2]``) with the settings of :func:`local_session`.
    """
    sql = _pyspark()
    active = sql.SparkSession.getActiveSession()
    if active is not None:
        return active, False
    if master is None and "PYSPARK_GATEWAY_PORT" in os.environ:  # launched by spark-submit
        with _quiet():
            return sql.SparkSession.builder.appName("laborai panel").getOrCreate(), True
    return local_session(master or "local[2]"), True


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence PySpark's notice that it does not yet fully support pandas 3 (the columns
    exchanged here are strings, booleans, numbers, dates and timestamps, which it converts)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas",
                                category=FutureWarning)
        warnings.filterwarnings("ignore", message="The copy keyword is deprecated")
        yield


def _first_line(err: BaseException) -> str:
    lines = [ln.strip() for ln in str(err).strip().splitlines() if ln.strip()]
    return lines[0][:400] if lines else type(err).__name__


@functools.lru_cache(maxsize=512)
def to_spark_sql(query: str) -> str:
    """Transpile one DuckDB statement of :func:`build_panel` to Spark SQL (sqlglot)."""
    import sqlglot
    from sqlglot import exp

    def rewrite(node: exp.Expression) -> exp.Expression:
        # timezone('UTC', x): x is already UTC, the session time zone being UTC (see above)
        if (isinstance(node, exp.Anonymous) and str(node.this).lower() == "timezone"
                and len(node.expressions) == 2 and node.expressions[0].name.upper() == "UTC"):
            return node.expressions[1]
        return node

    tree = sqlglot.parse_one(query, read="duckdb").transform(rewrite)
    return tree.sql(dialect="spark")


#: Spark SQL type name -> the DuckDB type name build_panel's checks expect.
_TYPES = {
    "string": "VARCHAR", "boolean": "BOOLEAN", "tinyint": "TINYINT", "smallint": "SMALLINT",
    "int": "INTEGER", "bigint": "BIGINT", "float": "FLOAT", "double": "DOUBLE", "date": "DATE",
    "timestamp": "TIMESTAMP WITH TIME ZONE", "timestamp_ntz": "TIMESTAMP", "void": "NULL",
}


def is_spark_frame(obj: Any) -> bool:
    """Whether ``obj`` is a PySpark DataFrame (classic or Spark Connect), without importing it."""
    return any(c.__name__ == "DataFrame" and c.__module__.startswith("pyspark.sql")
               for c in type(obj).__mro__)


class SparkEngine:
    """Binds the inputs as Spark temporary views and runs build_panel's SQL, transpiled.

    The interface is that of DuckDB's engine in :mod:`laborai.panel` (``bind``, ``describe``,
    ``sql``, ``df``, ``close``); every Spark error becomes a :class:`LaborAIError`.
    """

    def __init__(self, spark: Any, inputs: list[Any]) -> None:
        _pyspark()
        if spark is None:
            frames = [x for x in inputs if is_spark_frame(x)]
            spark = frames[0].sparkSession if frames else local_session()
        self.spark = spark
        self._views: list[str] = []
        self._tz = spark.conf.get("spark.sql.session.timeZone")
        spark.conf.set("spark.sql.session.timeZone", "UTC")

    def _translate(self, err: Exception, where: str, rule: str, hint: str) -> LaborAIError:
        msg = _first_line(err)
        text = str(err)
        if "PATH_NOT_FOUND" in text or "Path does not exist" in text:
            return DataFileNotFoundError(
                f"{where}: rule 'readable_file': Spark could not open the input ({msg}). Check "
                "the path: a Parquet/CSV file, a glob or a directory of Parquet files.")
        if "NANOS" in text.upper():
            return DataValidationError(
                f"{where}: rule 'column_type': Spark cannot read Parquet timestamps in "
                f"nanoseconds ({msg}). Write microsecond timestamps, e.g. "
                "df.to_parquet(path, coerce_timestamps='us', allow_truncated_timestamps=True).")
        return DataValidationError(f"{where}: rule {rule!r}: Spark failed ({msg}). {hint}")

    def bind(self, name: str, obj: Any, where: str) -> None:
        hint = "Check that the input is a readable Parquet/CSV file of the canonical table."
        try:
            if isinstance(obj, pd.DataFrame):
                dup = obj.columns[obj.columns.duplicated()].unique().tolist()
                if dup:
                    raise DataValidationError(
                        f"{where}: rule 'unique_columns': column name(s) "
                        f"{', '.join(map(repr, dup))} appear more than once; rename or drop the "
                        "copies.")
                with _quiet():
                    sdf = self.spark.createDataFrame(
                        pa.Table.from_pandas(obj, preserve_index=False))
            elif is_spark_frame(obj):
                sdf = obj
            elif isinstance(obj, (str, Path)):
                s = str(obj)
                if not any(ch in s for ch in "*?[") and not Path(s).exists():
                    raise DataFileNotFoundError(
                        f"{where}: rule 'readable_file': no such file or directory. Pass an "
                        "existing Parquet/CSV file, a glob or a directory of Parquet files.")
                if ".csv" in s or ".tsv" in s:
                    sdf = self.spark.read.csv(s, header=True, inferSchema=True,
                                              sep="\t" if ".tsv" in s else ",")
                elif ".parquet" in s or Path(s).is_dir():
                    sdf = self.spark.read.option("recursiveFileLookup", Path(s).is_dir()) \
                        .parquet(s)
                else:
                    raise OptionError(f"paths must point to .parquet or .csv files (or a "
                                      f"directory of Parquet files); got {s!r}.")
            else:
                raise OptionError(
                    "with engine='spark', job posts and contracts must be a pandas DataFrame, a "
                    f"Spark DataFrame or a Parquet/CSV path; got {type(obj).__name__}.")
            sdf.createOrReplaceTempView(name)
            self._views.append(name)
        except LaborAIError:
            raise
        except (pa.ArrowException, ValueError, TypeError) as err:
            raise DataValidationError(
                f"{where}: rule 'column_type': a column cannot be converted to Spark "
                f"({_first_line(err)}); give each column one type.") from err
        except Exception as err:  # py4j / pyspark errors
            raise self._translate(err, where, "readable_file", hint) from err

    def describe(self, view: str, where: str) -> dict[str, str]:
        """Column name -> DuckDB type name (as ``DESCRIBE`` gives on DuckDB)."""
        try:
            fields = self.spark.table(view).schema.fields
        except Exception as err:
            raise self._translate(err, where, "readable_file", "") from err
        out = {}
        for f in fields:
            t = f.dataType.simpleString()
            out[f.name] = ("DECIMAL" + t[len("decimal"):] if t.startswith("decimal")
                           else _TYPES.get(t, t.upper()))
        return out

    def sql(self, query: str, where: str, rule: str, hint: str = "") -> Any:
        try:
            return self.spark.sql(to_spark_sql(query))
        except LaborAIError:
            raise
        except Exception as err:
            raise self._translate(err, where, rule, hint) from err

    def df(self, query: str, where: str, rule: str, hint: str = "") -> pd.DataFrame:
        sdf = self.sql(query, where, rule, hint)
        try:
            with _quiet():
                return sdf.toPandas()
        except Exception as err:
            raise self._translate(err, where, rule, hint) from err

    def close(self) -> None:
        for name in self._views:
            try:
                self.spark.catalog.dropTempView(name)
            except Exception:  # pragma: no cover - the session is gone
                pass
        try:
            if self._tz is not None:
                self.spark.conf.set("spark.sql.session.timeZone", self._tz)
        except Exception:  # pragma: no cover - the session is gone
            pass


def flag_posts(model: Any, posts: Any, column: str | None = None) -> Any:
    """Flag job posts on Spark with a fitted classifier, partition by partition (mapInPandas).

    Parameters
    ----------
    model : laborai.classify.Classifier
        A fitted model (:func:`laborai.classify.train` or :func:`laborai.classify.load`). It is
        shipped to the executors once per task with the function, so every executor needs
        laborai and scikit-learn.
    posts : pyspark.sql.DataFrame
        Job posts with ``title`` and optional ``skills`` / ``description``.
    column : str, optional
        Name of the added boolean column; default ``is_<technology>`` (e.g. ``is_ai``), which
        :func:`laborai.build_panel` counts as ``n_ai_posts`` by default.

    Returns
    -------
    pyspark.sql.DataFrame
        ``posts`` with the flag column added (replaced if present), lazily: the flags are
        computed when the frame is used, e.g. by ``build_panel(flagged, contracts,
        engine="spark")``, which then counts them in its aggregation. ``build_panel`` scans
        its input a few times (checks, then aggregates), so persist or write the flagged frame
        first to classify each post once. The flags equal ``model.predict(posts_pandas)``
        post for post.
    """
    _pyspark()
    from pyspark.sql.types import BooleanType, StructField, StructType

    if not hasattr(model, "predict") or not hasattr(model, "technology"):
        raise OptionError(f"model must be a fitted laborai.classify.Classifier; got "
                          f"{type(model).__name__}.")
    if not is_spark_frame(posts):
        raise OptionError(f"posts must be a Spark DataFrame; got {type(posts).__name__} (for "
                          "pandas posts use model.predict).")
    name = column or f"is_{model.technology}"
    if "title" not in posts.columns:
        raise DataValidationError(
            f"posts: column 'title' is required to classify posts; got columns "
            f"{list(posts.columns)[:12]}. Rename the job-title column to 'title'.")
    text_cols = [c for c in ("title", "skills", "description") if c in posts.columns]
    rest = posts.drop(name) if name in posts.columns else posts
    schema = StructType([*rest.schema.fields, StructField(name, BooleanType(), False)])

    def apply(batches: Any) -> Any:
        for pdf in batches:
            flags = model.predict(pdf[text_cols]).to_numpy(dtype=bool)
            yield pdf.assign(**{name: flags})

    with _quiet():
        return rest.mapInPandas(apply, schema)
