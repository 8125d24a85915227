"""Notifier: tells the stakeholder, on the channel they used, what happened.

The receipt with the reference, the rejection letter, the schedule (its
delivery is what ScheduleConveyed means) and the Berita Acara. Email goes over
SMTP, WhatsApp through an HTTP gateway; post, fax, phone and walk-in become a
delivery task that staff confirm by hand. The embedded default writes every
outgoing message to a file under ``var/outbox/`` so nothing leaves the machine.
"""
