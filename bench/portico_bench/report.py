"""The results table: verdict rows from the registered measures, and its Markdown text."""

from __future__ import annotations

from typing import Any

from portico_bench.harness import Floors, Measure, Result, Rows


def verdicts(floors: Floors, rounds: dict[int, Result], measures: tuple[Measure, ...]) -> Rows:
    """Rows for each N, then for each measure that has figures in that round."""
    rows = Rows()
    for n, r in rounds.items():
        for measure in measures:
            if r.get(measure.key):
                measure.verdicts(rows, floors, n, r)
        for key, error in (r.get("errors") or {}).items():
            rows.add(n, f"{key}: failed", error[:80], "runs to the end", False)
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    head = ["N", "measure", "value", "target", "verdict"]
    cells = [[str(r["n"]), r["measure"], r["value"], r["target"], r["verdict"]] for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(head)]
    lines = ["| " + " | ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)) + " |"]
    lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for c in cells:
        lines.append("| " + " | ".join(x.ljust(w) for x, w in zip(c, widths, strict=True)) + " |")
    return "\n".join(lines)
