"""The store: the only place with SQL text, dialect branches, transactions and claiming.

Engine, services and screens call the store (or the service layer) for plain data;
they never build peewee queries themselves. Modules:

- ``dialect``  the few places SQLite and PostgreSQL differ, behind one object;
- ``runs``, ``steps``, ``history``  the engine's writes (set-based) and claims;
- ``reads``  read models for the screens (plain dicts and dataclasses).
"""
