"""Repositories: SQL for one aggregate each. They flush but never commit."""
