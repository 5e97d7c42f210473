"""Exception and warning hierarchy of laborai.

Every error raised on purpose by laborai derives from :class:`LaborAIError`; each subclass also
inherits the built-in exception it refines, so ``except ValueError`` keeps working for users who
do not know about laborai's classes. Warnings derive from :class:`LaborAIWarning` so that they can
be filtered as a family (``warnings.filterwarnings("ignore", category=la.LaborAIWarning)``).
"""

from __future__ import annotations

__all__ = [
    "ConvergenceWarning",
    "DataFileNotFoundError",
    "DataValidationError",
    "EstimationError",
    "LaborAIError",
    "LaborAIWarning",
    "OptionError",
    "QuarantineWarning",
    "SmallSampleWarning",
    "SourceTypeError",
    "SparkUnavailableError",
]


class LaborAIError(Exception):
    """Base class of every error raised on purpose by laborai."""


class DataValidationError(LaborAIError, ValueError):
    """Input data break a documented rule (missing column, duplicate id, bad date, ...).

    The message names the file, the column, the rule, the number of offending rows and the first
    few offending values.
    """


class OptionError(LaborAIError, ValueError):
    """An option has a value outside its allowed set; the message lists the allowed values."""


class EstimationError(LaborAIError, RuntimeError):
    """An estimator cannot produce a result for this input (e.g. no comparison units)."""


class DataFileNotFoundError(LaborAIError, FileNotFoundError):
    """A public data file is neither in ``LABORAI_DATA_DIR``, the cache, nor downloadable."""


class LaborAIWarning(UserWarning):
    """Base class of laborai's warnings."""


class SmallSampleWarning(LaborAIWarning):
    """Few clusters or small cells: conventional inference may be unreliable."""


class ConvergenceWarning(LaborAIWarning):
    """An iterative routine stopped before meeting its tolerance."""


class SourceTypeError(LaborAIError, TypeError):
    """The source is none of the kinds a reader accepts (path, DataFrame, DuckDB relation, ...)."""


class QuarantineWarning(LaborAIWarning):
    """Quarantine rejected more than a small share of the rows, or emptied a whole value tier."""


class SparkUnavailableError(LaborAIError, RuntimeError):
    """``engine="spark"`` cannot run: PySpark or the Java runtime it needs is missing, or the
    Spark session cannot start. The message says how to install what is missing."""

