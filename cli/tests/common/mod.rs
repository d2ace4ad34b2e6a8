//! What the CLI tests share: the binaries, a scratch directory, and `lifeline localnet`
//! run as a user runs it (a child process on free ports), so the tests drive only the
//! binaries.
#![allow(dead_code)]
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

pub fn lifeline() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_lifeline"));
    c.env_remove("LIFELINE_URL")
        .env_remove("LIFELINE_KEYPAIR")
        .env_remove("LIFELINE_NETWORK");
    c
}

/// Runs a command: (exit code, stdout, stderr).
pub fn run(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

/// Runs `lifeline args…`, asserting success; returns stdout.
pub fn ok(args: &[&str]) -> String {
    let (code, out, err) = run(lifeline().args(args));
    assert_eq!(code, 0, "lifeline {args:?}\n{out}{err}");
    assert!(!err.contains("panicked"), "{err}");
    out
}

/// Runs `lifeline args…`, asserting exit code `code`; returns stderr.
pub fn fails(code: i32, args: &[&str]) -> String {
    let (got, out, err) = run(lifeline().args(args));
    assert_eq!(got, code, "lifeline {args:?}\n{out}{err}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A scratch directory, removed at the end.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Self {
        let p = std::env::temp_dir().join(format!("lifeline-cli-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Self(p)
    }
    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
    pub fn file(&self, name: &str, contents: &str) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, contents).unwrap();
        p
    }
    /// A new funded keypair file (via `lifeline keygen` and `lifeline airdrop`); returns
    /// (path, pubkey).
    pub fn funded_key(&self, name: &str, url: &str) -> (String, String) {
        let path = self.path(name);
        let pubkey = ok(&["keygen", "-o", path.to_str().unwrap()])
            .trim()
            .to_string();
        ok(&["airdrop", "-u", url, path.to_str().unwrap(), "100"]);
        (path.display().to_string(), pubkey)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `lifeline localnet` on free ports, killed when dropped.
pub struct LocalnetProcess {
    child: Child,
    pub rpc: String,
    pub admin: String,
    /// The simulated endpoints it printed: (name, url).
    pub endpoints: Vec<(String, String)>,
}

impl LocalnetProcess {
    /// With `endpoints` simulated RPC endpoints.
    pub fn start(endpoints: u16) -> Self {
        Self::start_with(&endpoints.to_string())
    }

    /// With the simulated endpoints `--endpoints` names (`3`, `rpc=2,oracle=1`, …).
    pub fn start_with(endpoints: &str) -> Self {
        let (rpc, ws, admin, ep) = (free_port(), free_port(), free_port(), free_port());
        let mut child = lifeline()
            .args(["localnet", "--slot-ms", "100", "--endpoints", endpoints])
            .args(["--rpc-port", &rpc.to_string(), "--ws-port", &ws.to_string()])
            .args(["--admin-port", &admin.to_string()])
            .args(["--endpoint-base-port", &ep.to_string()])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut printed = Vec::new();
        for line in lines.by_ref() {
            let line = line.unwrap();
            if line.starts_with("Ctrl-C") {
                break;
            }
            if let Some(rest) = line.trim().strip_prefix("endpoint") {
                let mut words = rest.split_whitespace();
                if let (Some(name), Some(url)) = (words.next(), words.next()) {
                    printed.push((name.to_string(), url.to_string()));
                }
            }
        }
        // keep draining what it prints, as a terminal would
        std::thread::spawn(move || for _ in lines {});
        Self {
            child,
            rpc: format!("http://127.0.0.1:{rpc}"),
            admin: format!("http://127.0.0.1:{admin}"),
            endpoints: printed,
        }
    }

    /// The URL of the simulated endpoint called `name`.
    pub fn url_of(&self, name: &str) -> &str {
        &self
            .endpoints
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no endpoint {name}: {:?}", self.endpoints))
            .1
    }
}

impl Drop for LocalnetProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn repo(path: &str) -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(
            || std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")),
            std::path::PathBuf::from,
        )
        .join("..")
        .join(path)
}

/// An account's lamports, over JSON-RPC.
pub fn balance(url: &str, pubkey: &str) -> u64 {
    let v: serde_json::Value = reqwest::blocking::Client::new()
        .post(url)
        .json(&serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "getBalance", "params": [pubkey]}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    v["result"]["value"].as_u64().unwrap()
}
