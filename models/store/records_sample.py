"""One real record to preview templates against (the step editor's preview line)."""
from __future__ import annotations

from typing import Any

from models.objects import record_model


def sample_record(type_name: str, record_id: int | None = None) -> dict[str, Any] | None:
    """Record ``record_id`` of ``type_name``, or the newest one (one read by primary
    key); None when there is none."""
    model = record_model(type_name)
    query = model.select()
    if record_id is not None:
        query = query.where(model.id == record_id)
    else:
        query = query.order_by(model.id.desc())
    return query.dicts().first()
