"""The on-disk index behind the Store protocol (base.py).

Modules, one concern each: vectors.py (FAISS), bm25.py (postings and scoring), segments.py (a segment's files:
written once, served, read back by writers), manifest.py (a version's own files), snapshot.py (a loaded
version answering queries), folder.py (the index folder: versions, publication, the writer's lock),
faults.py (what damage and a full disk look like). Nothing is imported here: import the module you need.
"""
