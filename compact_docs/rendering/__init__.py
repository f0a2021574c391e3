"""Making letters: check, word, lay out as DOCX and PDF, write safely, one at a time or in batches.

Named `rendering` (not `render`) so that `compact_docs.render`, the function, stays a function.
"""
