"""Password hashing and sign-in settings."""
import os

from proper.units import HOURS


env = os.getenv("APP_ENV", "dev")

AUTH_HASH_NAME = "argon2"
AUTH_ROUNDS = None
AUTH_PASSWORD_MINLEN = 9
AUTH_PASSWORD_MAXLEN = 1024
AUTH_TOKEN_LIFE = 3 * HOURS

if env == "test":
    # A deliberately cheap hash: tests create many users.
    AUTH_HASH_NAME = "pbkdf2_sha256"
    AUTH_ROUNDS = 1
