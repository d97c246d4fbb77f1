"""Stage 2, source records → check results: every identity of the tables, the narrative and the projects."""
