"""Stage 4, views → bytes: pages, Markdown made safe, charts, search index, open data. Writes nothing."""
