"""Reading and checking the raw source files of a study folder, before any mapping."""
