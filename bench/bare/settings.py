"""The product's settings with the bench's own URLconf: the same middleware, auth, database and gunicorn."""

from config import settings as _product

globals().update({name: value for name, value in vars(_product).items() if name.isupper()})

ROOT_URLCONF = "bench.bare.urls"
