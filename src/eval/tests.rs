//! Evaluator unit tests.
