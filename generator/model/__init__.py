"""Stage 3, source records and check results → the views the pages show. No I/O."""
