# Tests run with the development defaults (DEBUG on, console e-mail), in English unless a test
# asks for another language; production settings are checked separately, in a subprocess, by
# tests/test_settings.py.
import os

os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("LANGUAGE_CODE", "en")
