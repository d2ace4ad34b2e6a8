//! Shared harness for the native program tests.
