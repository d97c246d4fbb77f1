"""Stage 6, what a user runs: the command line, serve, diff, archive, new, schema and the git helpers."""
