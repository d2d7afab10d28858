"""Contract fakes of external services, used only by tests (never imported by the operator)."""
