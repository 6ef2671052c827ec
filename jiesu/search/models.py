"""The search index of orders: one row of words per order (jiesu.search.tokens).

The row is a plain table on both databases; the index over it is database-specific and made by
the migration: an FTS5 external-content table kept in step by triggers on SQLite; on PostgreSQL a
generated column ``doc`` (``array_to_tsvector(string_to_array(words, ' '))``, stored, unknown to
the model: the database writes it) with a GIN index over it (migration 0002)."""

from __future__ import annotations

from django.db import models

from jiesu.orders.models import WorkOrder


class OrderText(models.Model):
    order = models.OneToOneField(WorkOrder, primary_key=True, on_delete=models.CASCADE, related_name="+")
    words = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"{self.order_id}"
