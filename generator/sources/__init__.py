"""Stage 1, files → source records: YAML that keeps its lines, the table formats, the loader."""
