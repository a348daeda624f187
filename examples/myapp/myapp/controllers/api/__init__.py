"""JSON API controllers, mounted under `/api`."""
