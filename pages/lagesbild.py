"""Lägesbild: the landing page (goal cards of the promise, "Läget just nu")."""

from __future__ import annotations

from pages.common import page_setup, show_empty

ctx = page_setup("Lägesbild", filters={"period"})
show_empty("Lägesbilden byggs upp – målkorten kommer snart.")
