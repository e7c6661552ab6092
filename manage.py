#!/usr/bin/env python
import os
import sys

# Commands that only read the code and write source files: they sign nothing, serve nothing and
# connect to no production service, so they run in development mode when DEBUG is not given
# (the settings otherwise refuse to start without a SECRET_KEY).
SOURCE_COMMANDS = {"makemigrations", "makemessages", "compilemessages"}

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "citedesmetiers.settings")
    if sys.argv[1:2] and sys.argv[1] in SOURCE_COMMANDS:
        os.environ.setdefault("DEBUG", "true")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
