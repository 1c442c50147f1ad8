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
    were merged along with this one. ``first_day``: the earliest UTC day whose gold rows or daily
    inputs (prices, snapshots, /global, categories) the batch touched (None: none, or a rebuild);
    analytics recompute from there. ``seconds``: wall time.
    """

    rows: dict[str, int] = field(default_factory=dict)
    rewritten: dict[str, int] = field(default_factory=dict)
    recovered: dict[str, int] = field(default_factory=dict)
    first_day: date | None = None
    seconds: float = 0.0

    def total(self, layer: str) -> int:
        """Rows landed in the tables of ``layer`` ("bronze", "silver", "gold")."""
        return sum(n for name, n in self.rows.items() if name.startswith(layer + "."))
