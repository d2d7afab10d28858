"""Backstage interop, pure: descriptors in (`portico import`), descriptors out (`portico export`).

Reading files and URLs is I/O and lives in clients/descriptors.py; everything here takes
what was read and decides.
"""
