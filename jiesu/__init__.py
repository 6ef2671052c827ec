"""Jiesu (接诉): a request received is a request handled."""

__version__ = "0.1.0"
