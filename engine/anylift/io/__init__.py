"""Readers and writers of the public formats (``docs/formats.md``)."""
