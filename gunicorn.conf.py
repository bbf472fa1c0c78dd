# gunicorn reads this file from the working directory (the repository root): Kanta's access log
# never writes a session token, an HMAC or an OAuth code (see plugin/log_redaction.py).
logger_class = "plugin.log_redaction.RedactingLogger"
