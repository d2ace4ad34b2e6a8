//! Keeps the program's native logs out of a binary's own output. Natively, `msg!` (and so
//! every Anchor error log) is a `println!` from whatever thread ran the instruction: it
//! would interleave with what `lifeline localnet` or `lifeline demo` prints. `divert`
//! moves file descriptor 1 to a pipe drained by a thread (dropped, or forwarded to stderr
//! with `LIFELINE_PROGRAM_LOGS=1`), and keeps the real stdout for `say`.
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::os::fd::FromRawFd;
use std::sync::{Mutex, OnceLock};

static STDOUT: OnceLock<Mutex<File>> = OnceLock::new();

/// Diverts fd 1 (once per process). Call before any thread prints.
pub fn divert() -> std::io::Result<()> {
    if STDOUT.get().is_some() {
        return Ok(());
    }
    std::io::stdout().flush()?;
    // SAFETY: plain POSIX calls on descriptors this function owns; fd 1 is replaced
    // atomically by dup2, and the saved copy becomes the File `say` writes to.
    let (saved, read) = unsafe {
        let saved = libc::dup(1);
        let mut fds = [0i32; 2];
        if saved < 0 || libc::pipe(fds.as_mut_ptr()) != 0 || libc::dup2(fds[1], 1) < 0 {
            return Err(std::io::Error::last_os_error());
        }
        libc::close(fds[1]);
        (File::from_raw_fd(saved), File::from_raw_fd(fds[0]))
    };
    let forward = std::env::var_os("LIFELINE_PROGRAM_LOGS").is_some();
    std::thread::Builder::new()
        .name("program-logs".into())
        .spawn(move || {
            for line in BufReader::new(read).lines().map_while(Result::ok) {
                if forward {
                    eprintln!("program: {line}");
                }
            }
        })?;
    let _ = STDOUT.set(Mutex::new(saved));
    Ok(())
}

/// Writes to the real stdout (the one before `divert`, or stdout if nothing was diverted).
pub fn say(args: std::fmt::Arguments) {
    match STDOUT.get() {
        Some(out) => {
            let mut out = out.lock().unwrap();
            let _ = out.write_fmt(args);
            let _ = out.write_all(b"\n");
            let _ = out.flush();
        }
        None => println!("{args}"),
    }
}

/// `println!` to the real stdout.
#[macro_export]
macro_rules! say {
    () => { $crate::console::say(format_args!("")) };
    ($($arg:tt)*) => { $crate::console::say(format_args!($($arg)*)) };
}
