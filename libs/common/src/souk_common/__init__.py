"""Infrastructure shared by the Souk services (never domain models)."""
