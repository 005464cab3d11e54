//! Table-driven tests of the lifecycle engine.
