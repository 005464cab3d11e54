//! Engine-level tests: whole operations against a small cluster.
