//! The Lifeline keeper's core: configuration, probe windows, and the decision of when to
//! attest. Pure and unit-tested; the daemon (prober, attester, migrator, sender) is built
//! on these. Verdicts come from the program's own engine, never a copy.
pub mod attest;
pub mod config;
pub mod jitter;
pub mod window;
