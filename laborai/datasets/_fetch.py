"""Find, download and verify pinned public files.

Resolution order for a source with relative path ``REL`` (e.g. ``indeed/AI_posting.csv``):

1. ``$LABORAI_DATA_DIR/REL`` when the environment variable is set and the file exists;
2. ``<cache>/REL`` where ``<cache>`` is ``$LABORAI_CACHE_DIR`` or the platform cache directory
   (``$XDG_CACHE_HOME/laborai`` or ``~/.cache/laborai`` on Linux);
3. a download from the pinned raw URL (unless ``LABORAI_OFFLINE`` is set), verified, then
   written atomically to ``<cache>/REL``.

A file found in any of these places is accepted only if its size and SHA-256 equal the pinned
values; otherwise :class:`~laborai.errors.DataValidationError` is raised. Nothing is parsed
before verification.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from laborai.datasets._sources import Source, get_source
from laborai.errors import DataFileNotFoundError, DataValidationError

__all__ = ["cache_dir", "data_path", "download_timeout", "offline", "verify_file"]

#: Seconds before a download attempt gives up.
DOWNLOAD_TIMEOUT = 60.0
_CHUNK = 1 << 20
_FALSE = {"", "0", "false", "no", "off"}


def offline() -> bool:
    """Return True when downloads are disabled (``LABORAI_OFFLINE`` set to a true value)."""
    return os.environ.get("LABORAI_OFFLINE", "").strip().lower() not in _FALSE


def download_timeout() -> float:
    """Return the download timeout in seconds (``LABORAI_DOWNLOAD_TIMEOUT``, default 60)."""
    raw = os.environ.get("LABORAI_DOWNLOAD_TIMEOUT")
    if raw is None or raw.strip() == "":
        return DOWNLOAD_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise DataValidationError(
            f"LABORAI_DOWNLOAD_TIMEOUT must be a positive number of seconds; got {raw!r}. "
            "Unset it to use the default of 60 seconds."
        )
    return value


def cache_dir() -> Path:
    """Return the directory where downloaded public files are cached.

    Returns
    -------
    pathlib.Path
        ``$LABORAI_CACHE_DIR`` if set; otherwise ``%LOCALAPPDATA%\\laborai\\Cache`` on Windows,
        ``~/Library/Caches/laborai`` on macOS and ``$XDG_CACHE_HOME/laborai`` (default
        ``~/.cache/laborai``) elsewhere. The directory is not created here.
    """
    env = os.environ.get("LABORAI_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    if sys.platform.startswith("win"):
        base = os.environ.get("LOCALAPPDATA")
        root = Path(base) if base else Path.home() / "AppData" / "Local"
        return root / "laborai" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "laborai"
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "laborai"


def _sha256_file(path: Path) -> tuple[int, str]:
    h = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            h.update(chunk)
            size += len(chunk)
    return size, h.hexdigest()


def _mismatch_message(src: Source, where: str, size: int, digest: str, fix: str) -> str:
    return (
        f"{where} does not match the pinned source {src.key!r}: expected {src.bytes} bytes with "
        f"sha256 {src.sha256}, got {size} bytes with sha256 {digest}. The file was changed, "
        f"truncated or comes from another commit. {fix} The pinned original is {src.url}."
    )


def verify_file(path: Path, src: Source) -> str:
    """Check the size and SHA-256 of ``path`` against ``src`` and return the digest.

    Parameters
    ----------
    path : pathlib.Path
        Local file to check.
    src : Source
        Pinned source it must equal.

    Returns
    -------
    str
        The SHA-256 hex digest (equal to ``src.sha256``).

    Raises
    ------
    DataValidationError
        If the size or the digest differ; the message names the file and both hashes.
    """
    size, digest = _sha256_file(path)
    if size != src.bytes or digest != src.sha256:
        raise DataValidationError(
            _mismatch_message(
                src,
                f"File {str(path)!r}",
                size,
                digest,
                "Replace it with the pinned file (or delete it so that laborai downloads it again).",
            )
        )
    return digest


def _download(src: Source, target: Path) -> None:
    """Download ``src`` to ``target`` atomically, verifying size and hash first."""
    timeout = download_timeout()
    with urllib.request.urlopen(src.url, timeout=timeout) as response:
        payload = response.read(src.bytes + 1)
    digest = hashlib.sha256(payload).hexdigest()
    if len(payload) != src.bytes or digest != src.sha256:
        raise DataValidationError(
            _mismatch_message(
                src,
                f"Downloaded content of {src.url}",
                len(payload),
                digest,
                "Nothing was written to the cache; check the network (a proxy may have altered "
                "the response) or place the pinned file by hand.",
            )
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def data_path(key: str) -> Path:
    """Return the local path of a verified pinned file, downloading it if needed.

    Parameters
    ----------
    key : str
        Source key, e.g. ``"indeed_sector_US"`` or ``"gpts_occ_level"``; see
        :func:`laborai.datasets.sources`.

    Returns
    -------
    pathlib.Path
        A file whose size and SHA-256 equal the pinned values.

    Raises
    ------
    OptionError
        If ``key`` is unknown.
    DataFileNotFoundError
        If the file is in neither ``LABORAI_DATA_DIR`` nor the cache and cannot be downloaded
        (offline, or the download failed); the message gives both paths, the URL and the
        expected hash.
    DataValidationError
        If a local or downloaded file has the wrong size or SHA-256.

    Notes
    -----
    Resolution order: ``$LABORAI_DATA_DIR/<relative path>``, then
    ``<cache>/<relative path>``, then the pinned URL
    ``https://raw.githubusercontent.com/<repository>/<commit>/<path in source>`` (skipped when
    ``LABORAI_OFFLINE=1``). A download is verified before it is written, atomically, to the
    cache.

    Examples
    --------
    >>> from laborai.datasets import data_path
    >>> data_path("gpts_occ_level").name  # doctest: +SKIP
    'gpts_are_gpts_occ_level.csv'
    """
    src = get_source(key)
    tried: list[str] = []
    data_dir = os.environ.get("LABORAI_DATA_DIR")
    if data_dir:
        candidate = Path(data_dir).expanduser() / src.relative_path
        if candidate.is_file():
            verify_file(candidate, src)
            return candidate
        tried.append(f"{candidate} (LABORAI_DATA_DIR)")
    else:
        tried.append("LABORAI_DATA_DIR (not set)")
    cached = cache_dir() / src.relative_path
    if cached.is_file():
        verify_file(cached, src)
        return cached
    tried.append(f"{cached} (cache)")

    if offline():
        reason = "downloads are disabled because LABORAI_OFFLINE is set"
    else:
        try:
            _download(src, cached)
        except (urllib.error.URLError, http.client.HTTPException, OSError, TimeoutError) as exc:
            reason = f"the download failed ({type(exc).__name__}: {exc})"
        else:
            verify_file(cached, src)
            return cached
    target_data = (
        Path(data_dir).expanduser() / src.relative_path
        if data_dir
        else Path("$LABORAI_DATA_DIR") / src.relative_path
    )
    raise DataFileNotFoundError(
        f"Public data file {src.relative_path!r} (source {src.key!r}) was not found and "
        f"{reason}. Looked in: {'; '.join(tried)}. To fix it, download {src.url} "
        f"({src.bytes} bytes, sha256 {src.sha256}) and save it unchanged as {target_data} "
        f"or as {cached}; or allow network access and unset LABORAI_OFFLINE."
    )
