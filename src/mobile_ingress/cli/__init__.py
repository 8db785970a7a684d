"""The `mobile-ingress` command line: readers, output formats and the argument parser."""
