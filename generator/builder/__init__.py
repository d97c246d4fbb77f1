"""Stage 5, the pipeline: scan, one department-year's unit in worker processes, the cache, staging into public/."""
