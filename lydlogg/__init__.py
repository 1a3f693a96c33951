"""Lydlogg: audio-log quality review for Norwegian out-of-hours emergency primary care."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("lydlogg")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+source"
