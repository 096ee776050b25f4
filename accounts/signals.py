"""Audit events for lock-outs (django-axes sends the signal)."""

from axes.signals import user_locked_out
from django.dispatch import receiver

from surveys.services import audit


@receiver(user_locked_out)
def audit_lock_out(sender, request=None, username=None, ip_address=None, **kwargs):
    audit(None, "login.locked_out", target=(username or "")[:150])
