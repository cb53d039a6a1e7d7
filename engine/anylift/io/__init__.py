"""Readers and writers of the public formats (``shared/formats.md``)."""
