"""Test support: the local control plane, kubectl, the operator process, polling, audit."""
