"""Availability (DESIGN §5): Bookly periods -> Cronofy Availability -> slots, cached briefly."""
