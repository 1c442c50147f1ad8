"""Operations: run ledger, metrics, alerts, status, scheduler and table maintenance.

Modules import their heavy dependencies lazily so the CLI starts fast.
"""
