"""Per-kind reconcilers: decide (domain) -> act (clients) -> status patch."""
