"""Rota's data layer: database set-up, models, object types, criteria.

Knows nothing of textual or the engine (tests/test_import_hygiene.py checks it).
"""
