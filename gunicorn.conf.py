# gunicorn reads ./gunicorn.conf.py by default (the image's working directory is /app):
# its own log lines become JSON like the application's (docs/security.md, "Logs").
logger_class = "belonging.gunicorn_logging.JsonLogger"
