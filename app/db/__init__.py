"""Persistence: the engine, the models and the migrations."""
