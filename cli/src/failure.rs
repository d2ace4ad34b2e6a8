//! How a command fails, and the exit code each kind of failure gets.
use std::fmt;

/// What went wrong, as the exit code tells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The user's input: flags, files, addresses, keypairs, a network that does not
    /// exist. Exit 2 (clap's own usage errors use 2 as well).
    Input,
    /// The cluster could not be reached. Exit 3.
    Unreachable,
    /// The program refused the transaction (the message names the error). Exit 4.
    Refused,
    /// Anything else. Exit 1.
    Other,
}

impl Kind {
    pub fn exit_code(self) -> u8 {
        match self {
            Kind::Other => 1,
            Kind::Input => 2,
            Kind::Unreachable => 3,
            Kind::Refused => 4,
        }
    }
}

/// The exit codes, for `--help`.
pub const EXIT_CODES: &str = "Exit codes:
  0  success
  1  an unexpected failure
  2  bad usage or input (flags, files, addresses, keypairs, an unknown network)
  3  the cluster could not be reached
  4  the program refused the transaction (the error is named)";

#[derive(Debug)]
pub struct Failure {
    pub kind: Kind,
    pub message: String,
}

impl Failure {
    pub fn input(message: impl Into<String>) -> Self {
        Self {
            kind: Kind::Input,
            message: message.into(),
        }
    }
    pub fn unreachable(message: impl Into<String>) -> Self {
        Self {
            kind: Kind::Unreachable,
            message: message.into(),
        }
    }
    pub fn refused(message: impl Into<String>) -> Self {
        Self {
            kind: Kind::Refused,
            message: message.into(),
        }
    }
    pub fn world(message: impl Into<String>) -> Self {
        Self {
            kind: Kind::Other,
            message: message.into(),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}
