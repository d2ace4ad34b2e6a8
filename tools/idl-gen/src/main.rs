//! Generates the Anchor IDL of the lifeline program without the anchor CLI.
//!
//!   cargo run -p lifeline-idl-gen              # writes idl/lifeline.json
//!   cargo run -p lifeline-idl-gen -- --check   # exits 1 if idl/lifeline.json is stale
use std::path::PathBuf;
use std::process::ExitCode;

/// The repository root. Cargo's runtime CARGO_MANIFEST_DIR first: a binary built by another
/// clone sharing the target directory carries that clone's compile-time path.
fn root() -> PathBuf {
    let here = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(
            || PathBuf::from(env!("CARGO_MANIFEST_DIR")),
            std::path::PathBuf::from,
        )
        .join("../..");
    std::fs::canonicalize(&here).unwrap_or(here)
}

fn idl_path() -> PathBuf {
    root().join("idl/lifeline.json")
}

fn generate() -> Result<String, String> {
    // anchor-lang-idl 0.1.4 turns RUSTUP_TOOLCHAIN into a literal "+{toolchain}" argument,
    // and rustup sets it for processes started by `cargo run`.
    std::env::remove_var("RUSTUP_TOOLCHAIN");
    let program =
        std::fs::canonicalize(root().join("programs/lifeline")).map_err(|e| e.to_string())?;
    let idl = anchor_lang_idl::build::IdlBuilder::new()
        .program_path(program)
        .skip_lint(true)
        // only the lib unit tests carry the `__anchor_private_print_idl*` tests
        .cargo_args(vec!["--lib".into()])
        .build()
        .map_err(|e| format!("IDL build failed: {e}"))?;
    serde_json::to_string_pretty(&idl)
        .map(|s| s + "\n")
        .map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let check = match args.as_slice() {
        [] => false,
        [flag] if flag == "--check" => true,
        _ => {
            eprintln!("usage: lifeline-idl-gen [--check]\n  writes idl/lifeline.json, or with --check fails if it is stale");
            return ExitCode::from(2);
        }
    };
    let path = idl_path();
    let fresh = match generate() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    if check {
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        if committed != fresh {
            eprintln!(
                "error: {} is stale; regenerate it with `cargo run -p lifeline-idl-gen` and commit it",
                path.display()
            );
            return ExitCode::FAILURE;
        }
        eprintln!("{} is up to date", path.display());
        return ExitCode::SUCCESS;
    }
    if let Err(e) = std::fs::write(&path, fresh) {
        eprintln!("error: cannot write {}: {e}", path.display());
        return ExitCode::FAILURE;
    }
    eprintln!("wrote {}", path.display());
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The committed IDL (what the dashboard's generated client is built from) must match
    /// the program. The nested build uses its own target directory so it never waits on
    /// the lock of the `cargo test` that runs this.
    #[test]
    fn committed_idl_matches_the_program() {
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| root().join("target"))
            .join("idl-build");
        std::env::set_var("CARGO_TARGET_DIR", target);
        let fresh = generate().expect("IDL builds");
        let committed = std::fs::read_to_string(idl_path()).expect("idl/lifeline.json exists");
        assert!(
            committed == fresh,
            "idl/lifeline.json is stale: run `cargo run -p lifeline-idl-gen` and commit it"
        );
    }
}
