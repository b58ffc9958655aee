"""HTML views (see templates/)."""
