//! Module-system merge tests.
