"""What one transform did (``apply_batch`` or ``rebuild_all``): rows per table, recovered rows, first day."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass
class TransformReport:
    """What one ``apply_batch`` or ``rebuild_all`` did.

    ``rows``: rows of the batch that landed in each table (bronze: appended; silver: distinct keys
    of the batch; gold: groups recomputed). ``rewritten``: rows physically written per table
    (merged partitions included). ``recovered``: bronze rows of an interrupted earlier batch that
    were merged along with this one. ``filtered``: per silver table, the bronze rows the model's
    documented rule leaves out (a daily point not at 00:00 UTC, a row without its key; for
    sparklines, null prices); only tables with some. ``first_day``: the earliest UTC day whose gold
    rows or daily inputs (prices, snapshots, /global, categories) the batch touched (None: none, or
    a rebuild); analytics recompute from there. ``seconds``: wall time.
    """

    rows: dict[str, int] = field(default_factory=dict)
    rewritten: dict[str, int] = field(default_factory=dict)
    recovered: dict[str, int] = field(default_factory=dict)
    filtered: dict[str, int] = field(default_factory=dict)
    first_day: date | None = None
    seconds: float = 0.0

    def count_filtered(self, table: str, n: int) -> None:
        """Add ``n`` bronze rows that ``table``'s rule left out (zero adds no entry)."""
        if n:
            self.filtered[table] = self.filtered.get(table, 0) + n

    def total(self, layer: str) -> int:
        """Rows landed in the tables of ``layer`` ("bronze", "silver", "gold")."""
        return sum(n for name, n in self.rows.items() if name.startswith(layer + "."))
