"""`python -m mobile_ingress` runs the command line."""

from .cli.main import cli

cli()
