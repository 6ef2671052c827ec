"""Triage (分拣): pure Python, no Django — text, rules, classifiers, gazetteer, duplicates, engine."""
