"""Words, not internals: messages from the service layer put into the operator's terms
at the UI boundary (issue 14 §3).

The validators (criteria, steps, schedules, settings) name what is wrong precisely, in
the vocabulary of the workflow file: ``settings.pause_dates[1]``, ``more_than_days_ago``,
``jobtitle``. The file's vocabulary is right for ``rota workflow import`` and wrong on a
screen; ``humanize`` turns it into the labels the screens show ("pause day 2", "more
than N days ago", "Job Title") before a message is displayed.
"""
from __future__ import annotations

import re

from models.criteria import OPERATOR_LABELS
from models.enums import Overlap

# Fields of the workflow body, as the editor labels them.
FIELD_LABELS = {
    "object_type": "object type",
    "pause_dates": "pause days",
    "action_times": "action times",
    "grace_seconds": "grace time (seconds)",
    "due_in_days": "due in (days)",
    "timeout_s": "timeout (seconds)",
    "to_property": "recipient property",
    "set_property": "set a property",
    "copy_property": "copy a property",
    "create_task": "create a task",
    "add_to_list": "add to a list",
    "remove_from_list": "remove from a list",
    "send_email": "send an e-mail",
    "monthly_days": "monthly on days",
    "monthly_flexible": "monthly (flexible)",
    "webhook_allow_hosts": "allowed webhook hosts",
    "on_step_failure": "on step failure",
    Overlap.SKIP_IN_PROGRESS: "skip records in progress",
    "misfire_policy": "misfire policy",
    "run_engine": "run the engine",
    "business_days": "business days",
    "in_last_days": "in the last N days",
}
SNAKE = re.compile(r"(?<![{\w])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![}\w])")


def operator_words(op: str) -> str:
    label = OPERATOR_LABELS.get(op)
    return str(label) if label else op.replace("_", " ")


def humanize(text: str, props: dict | None = None) -> str:
    """``text`` with the workflow file's names replaced by labels. ``props`` (property
    name → an object with ``.label``) turns property names into their labels; names
    inside ``{…}`` (templates) are left as written, since that is what the operator
    types there."""
    text = re.sub(r"settings\.pause_dates\[(\d+)\]", lambda m: f"pause day {int(m.group(1)) + 1}", text)
    text = re.sub(r"settings\.(\w+)", lambda m: FIELD_LABELS.get(m.group(1), m.group(1).replace("_", " ")), text)
    for prop in (props or {}).values():
        name, label = getattr(prop, "name", ""), getattr(prop, "label", "")
        if name and label and name != label.lower():
            text = re.sub(rf"(?<![{{\w]){re.escape(name)}(?![}}\w])", label, text)

    def word(m: re.Match) -> str:
        token = m.group(0)
        if token in FIELD_LABELS:
            return FIELD_LABELS[token]
        if token in OPERATOR_LABELS:
            return operator_words(token)
        return token.replace("_", " ")

    return SNAKE.sub(word, text)
