"""The engine: library, encoders, prior, retrieval, generation, analysis, export. Never imports Qt."""
