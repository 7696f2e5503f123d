"""Domain logic: typed functions over models and clients, no Flask request objects."""
