"""Stage 0, what every stage uses: diagnostics and user errors, money, site settings, writing a file."""
