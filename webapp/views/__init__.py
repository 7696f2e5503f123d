"""Blueprints, one per area; thin: parse, call one service, respond."""
