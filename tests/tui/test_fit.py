"""Cells shortened after a whole word, marked with "…" (issue 14 §1)."""
import pytest
from rich.cells import cell_len

from tui.widgets.fit import clip, compact_count


@pytest.mark.parametrize("text,width,shown", [
    ("Customer anniversary", 24, "Customer anniversary"),  # fits: unchanged
    ("Month-end open deals review", 25, "Month-end open deals…"),  # not "Month-end open deals revi"
    ("First-Monday stale ticket sweep", 26, "First-Monday stale ticket…"),
    ("alessandro.bruno@example.com", 14, "alessandro.br…"),  # one long word: cut, but marked
    ("Urgent ticket escalation (cron)", 31, "Urgent ticket escalation (cron)"),
    ("a, b, c, d", 6, "a, b…"),
    ("🎉🎉🎉🎉 party", 6, "🎉🎉…"),  # wide characters counted as the two cells they take
    ("anything", 0, ""),
])
def test_clip(text, width, shown):
    assert clip(text, width) == shown
    assert cell_len(clip(text, width)) <= max(width, 0)


def test_compact_count():
    assert [compact_count(n) for n in (0, 1234, 99_999, 123_456, 12_345_678)] == [
        "0", "1,234", "99,999", "123k", "12M"]
