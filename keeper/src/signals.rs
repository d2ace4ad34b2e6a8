//! Shutdown signals, for every binary: the handlers are registered when `Shutdown::install`
//! returns, so a SIGINT or SIGTERM that arrives before the first await is never lost
//! (tokio's `ctrl_c()` registers lazily, on first poll, and a signal before that kills the
//! process).
use tokio::signal::unix::{signal, Signal, SignalKind};

pub struct Shutdown {
    interrupt: Signal,
    terminate: Signal,
}

impl Shutdown {
    /// Registers SIGINT and SIGTERM handlers now. Call it first thing in `main`'s runtime.
    pub fn install() -> std::io::Result<Self> {
        Ok(Self {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    /// Waits for SIGINT or SIGTERM.
    pub async fn wait(&mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
    }
}
