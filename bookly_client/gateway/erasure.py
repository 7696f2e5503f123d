"""Erasing a customer from the Bookly rows of our bookings (an admin's GDPR request).

The customer record of each booking we made (found by our reference) is anonymised: name,
e-mail, phone, address, birthday, notes and custom fields are emptied, the way WordPress'
own personal-data eraser leaves a record that still counts in Bookly's history. The notes and
custom fields of our customer-appointment rows go too, and so do the details Bookly's log
copied from those rows. Appointments themselves stay (an
instructor's past schedule); so does a customer record Bookly shares with appointments made
outside this service, anonymised with the rest: it is the same person.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from bookly_client.connection import writing
from bookly_client.gateway.audit import write_log
from bookly_client.gateway.bookings import find_by_token
from bookly_client.gateway.context import GatewayContext
from bookly_client.validation import check_reference

ERASED_NAME = "Erased customer"


def anonymise_customers(ctx: GatewayContext, references: Sequence[str]) -> int:
    """Anonymise the customers of these bookings (unknown references are skipped); return how
    many customer records were changed."""
    t = ctx.tables
    c, ca = t.customers, t.customer_appointments
    with writing(ctx.engine) as conn:
        settings = ctx.settings(conn)
        now = ctx.now_local(settings)
        found = [find_by_token(conn, ctx, check_reference(r)) for r in references]
        customers = sorted({b.customer_id for b in found if b is not None})
        our_rows = [b.customer_appointment_id for b in found if b is not None]
        changed = 0
        for customer_id in customers:
            row = conn.execute(
                sa.select(c.c.full_name, c.c.email).where(c.c.id == customer_id)
            ).first()
            if row is None or (row.full_name == ERASED_NAME and not row.email):
                continue
            values = {
                "full_name": ERASED_NAME, "first_name": "", "last_name": "", "phone": "",
                "email": "", "birthday": None, "country": None, "state": None, "postcode": None,
                "city": None, "street": None, "street_number": None, "additional_address": None,
                "full_address": None, "notes": "", "info_fields": "[]", "wp_user_id": None,
                "facebook_id": None,
            }  # fmt: skip
            conn.execute(sa.update(c).where(c.c.id == customer_id).values(**values))
            write_log(conn, ctx, action="update", table=c, target_id=customer_id,
                      details={"erased": True}, now_local=now)  # fmt: skip
            changed += 1
        if our_rows:
            conn.execute(
                sa.update(ca).where(ca.c.id.in_(our_rows)).values(notes="", custom_fields="[]")
            )
        # Bookly's log copies what was written (names, addresses) into ``details``.
        lg = t.log
        about = sa.or_(
            sa.and_(lg.c.target == c.name, lg.c.target_id.in_(customers)),
            sa.and_(lg.c.target == ca.name, lg.c.target_id.in_(our_rows)),
        )
        conn.execute(sa.update(lg).where(about).values(details='{"erased": true}'))
    return changed
