"""The baseline Souk's order placement is measured against: one Django project, one
database (``nox -s load -- --scenario tax``; not part of the product)."""
