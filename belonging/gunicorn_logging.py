"""gunicorn's own log lines (start-up, worker errors, the access log) as the same JSON
lines as the application's (belonging/logs.py). gunicorn.conf.py names this class.

An access line carries method, path without the query string, status, duration and
the response's X-Request-ID, so it joins up with the application's records of the
same request."""

from gunicorn.glogging import Logger

from belonging.logs import JsonFormatter


class JsonLogger(Logger):
    def setup(self, cfg):
        super().setup(cfg)
        formatter = JsonFormatter()
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(formatter)

    def access(self, resp, req, environ, request_time):
        if not self.access_log_enabled:
            return
        request_id = next((v for k, v in resp.headers if k.lower() == "x-request-id"), "-")
        duration_ms = round(request_time.total_seconds() * 1000, 1)
        self.access_log.info(
            "%s %s %s %sms", environ.get("REQUEST_METHOD", "-"), environ.get("PATH_INFO", "-"),
            resp.status_code, duration_ms,
            extra={"request_id": request_id, "status_code": resp.status_code,
                   "duration_ms": duration_ms},
        )
