# Tests run with the development defaults (DEBUG on, console e-mail); production settings are
# checked separately, in a subprocess, by tests/test_settings.py.
import os

os.environ.setdefault("DEBUG", "true")
