from celery import shared_task

from . import services


@shared_task
def close_expired_sessions():
    """Beat task: an open session closes itself at the end of the school day."""
    return services.close_expired_sessions()
