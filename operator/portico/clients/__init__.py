"""All I/O lives here, one module per external system; clients never import each other."""
