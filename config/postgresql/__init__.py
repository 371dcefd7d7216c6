"""Django's PostgreSQL backend with a health check that costs no round trip, and statements prepared on request.

ENGINE "config.postgresql" (config.settings sets it for every postgres:// URL). See base.py.
"""
