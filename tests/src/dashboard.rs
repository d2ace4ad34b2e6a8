//! Running the dashboard's browser scripts (app/test/*.mjs) against a sandbox.
use lifeline_sandbox::Sandbox;

/// `node <script>` in app/, with the sandbox's addresses in the environment the
/// dashboard's browser scripts read (LIFELINE_RPC_URL, _WS_URL, _ADMIN_URL, _NETWORK,
/// _NETWORK_NAME).
/// Checks first that what they need is installed, naming the fix.
pub fn dashboard_script(sb: &Sandbox, script: &str) -> std::process::Command {
    let app = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(
            || std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")),
            std::path::PathBuf::from,
        )
        .join("../app");
    assert!(
        app.join("node_modules/playwright-core").exists(),
        "the dashboard's dependencies are not installed: run `npm ci --prefix app` (scripts/test does)"
    );
    assert!(
        std::path::Path::new("/usr/bin/chromium").exists(),
        "Chromium is not installed: `apt-get install chromium` (scripts/test does)"
    );
    let mut node = std::process::Command::new("node");
    node.arg(script)
        .current_dir(&app)
        .env("LIFELINE_RPC_URL", &sb.net.rpc_url)
        .env("LIFELINE_WS_URL", &sb.net.ws_url)
        .env(
            "LIFELINE_ADMIN_URL",
            sb.net.admin_url.as_deref().expect("admin API"),
        )
        .env("LIFELINE_NETWORK", sb.network.to_string())
        .env("LIFELINE_NETWORK_NAME", &sb.config.name);
    node
}
