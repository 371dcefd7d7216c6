"""The "limit" endpoint of the sync benchmark: plain DRF, one Serializer, one INSERT ... ON CONFLICT.

It is served by its own gunicorn (bench.bare.wsgi, settings bench.bare.settings) and is never part of
the product's URLconf.
"""
