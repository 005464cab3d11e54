//! Unit tests of the selector language.
