from celery import shared_task

from . import services


@shared_task
def close_expired_sessions():
    """Beat task: an open session closes itself at the end of the school day."""
    return services.close_expired_sessions()


@shared_task(soft_time_limit=3000, time_limit=3600)
def apply_retention():
    """Beat task (daily): delete raw data past each series' retention period."""
    from . import lifecycle

    return lifecycle.apply_retention()
