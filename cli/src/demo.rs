//! `lifeline demo`: the failover story on an embedded default, with no configuration and
//! no Solana toolchain. The sandbox starts a localnet with simulated endpoints of three
//! kinds in three groups (JSON-RPC, PubSub WebSocket, an oracle), applies the demo's
//! topology through the same planner as `lifeline apply`,
//! and runs four real keepers (the daemon code, in-process, each with its own key); a
//! client follows the topology through `FailoverRpc` the whole time, and the scenario is
//! narrated as it happens, one phase per function.
//!
//! (Over 400 lines: the story's phases, one function each, and the status line they
//! print; the phases read best in one file, in order.)
use std::time::{Duration, Instant};

use lifeline::engine::{collect, policy::effective_quorum, tally};
use lifeline::state::{MigrationRecord, PolicyParams, Reason, Role};
use lifeline_client::{
    describe, ChainState, FailoverRpc, RouterConfig, TopologyWatcher, WatcherConfig,
};
use lifeline_keeper::signals::Shutdown;
use lifeline_localnet::{Fault, LocalnetConfig, SimulatedEndpoint};
use lifeline_sandbox::{Sandbox, SandboxConfig};
use solana_commitment_config::CommitmentConfig;
use tokio::task::JoinHandle;

use crate::chain::Failure;
use lifeline_localnet::say;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Scenario {
    /// The primary freezes: it still answers 200 OK and getHealth "ok", but its slot stops.
    Frozen,
    /// The primary stops answering (connections refused).
    Down,
    /// The primary answers, 4 s late.
    Slow,
    /// The primary falls 20 slots behind and stays there.
    Lagging,
}

impl Scenario {
    fn fault(self) -> Fault {
        match self {
            Scenario::Frozen => Fault::Frozen,
            Scenario::Down => Fault::Down,
            Scenario::Slow => Fault::Slow { ms: 4_000 },
            Scenario::Lagging => Fault::Lagging { slots: 20 },
        }
    }
    fn story(self) -> &'static str {
        match self {
            Scenario::Frozen => "freezes: it keeps answering 200 OK and getHealth \"ok\", but its slot stops advancing",
            Scenario::Down => "goes dark: connections are refused",
            Scenario::Slow => "slows down: every answer takes 4 seconds",
            Scenario::Lagging => "falls 20 slots behind the cluster and stays there",
        }
    }
}

#[derive(clap::Args)]
pub struct DemoArgs {
    /// Which failure to play.
    #[arg(long, value_enum, default_value_t = Scenario::Frozen)]
    pub scenario: Scenario,
    /// Leave the cluster, keepers and endpoints running at the end (for the dashboard),
    /// on the default ports (RPC 8899, WebSocket 8900, admin 8890, endpoints 8901+).
    #[arg(long)]
    pub keep_running: bool,
    /// 100 ms slots instead of 400 ms: the same story four times faster (used by tests).
    #[arg(long)]
    pub fast: bool,
}

/// The demo's policy: tight, so the whole story (quarantine and probation included) fits
/// in about half a minute at 400 ms slots.
fn demo_policy() -> PolicyParams {
    PolicyParams {
        staleness_slots: 30,
        liveness_slots: 300,
        lag_degraded_slots: 4,
        lag_down_slots: 8,
        latency_degraded_ms: 1_500,
        latency_down_ms: 3_000,
        cooldown_slots: 20,
        quarantine_base_slots: 40,
        quarantine_max_slots: 400,
        probation_slots: 15,
        ..PolicyParams::default()
    }
}

const REGIONS: [&str; 4] = ["eu-west", "us-east", "ap-south", "eu-central"];
const PROVIDERS: [&str; 4] = ["aws", "gcp", "ovh", "hetzner"];
/// The demo's groups: (what it serves, its endpoints as simulated names).
const GROUPS: [(&str, [&str; 2]); 3] = [
    ("JSON-RPC", ["ep0", "ep1"]),
    ("PubSub", ["ws0", "ws1"]),
    ("prices", ["or0", "or1"]),
];

/// A running demo: the sandbox, how fast its slots go, and when it started.
struct Demo {
    sb: Sandbox,
    slot_ms: u64,
    started: Instant,
    last_line: Instant,
}

impl Demo {
    fn phase(&self, msg: &str) {
        say!("\n▶ {msg}");
    }

    /// Prints the status line at most every `slots` slots.
    fn line(&mut self, state: &ChainState, slots: u64) {
        if self.last_line.elapsed() >= Duration::from_millis(self.slot_ms * slots) {
            say!("  {}", status_line(state, &self.sb.net.simulated()));
            self.last_line = Instant::now();
        }
    }

    fn name(&self, state: &ChainState, id: u32) -> String {
        endpoint_name(state, &self.sb.net.simulated(), id)
    }
}

/// The simulated endpoint's name (ep0, ws0, or0, …) for endpoint `id`.
fn endpoint_name(state: &ChainState, simulated: &[SimulatedEndpoint], id: u32) -> String {
    state
        .topology
        .endpoint(id)
        .and_then(|e| simulated.iter().find(|s| s.url == e.url()))
        .map_or(format!("#{id}"), |s| s.name.clone())
}

/// One line: slot, epoch, and per endpoint its role and the keepers' quorum verdict.
fn status_line(v: &ChainState, simulated: &[SimulatedEndpoint]) -> String {
    let snap = v.snapshot();
    let electorate = collect(&snap);
    let q = effective_quorum(&v.network.policy, v.network.keeper_count as usize);
    let parts: Vec<String> = v
        .topology
        .endpoints()
        .iter()
        .map(|e| {
            let t = tally(&snap, &electorate, e.id);
            let verdict = if t.down as usize >= q {
                format!("DOWN {}/{}", t.down, t.observed)
            } else if t.healthy as usize >= q {
                format!("ok {}/{}", t.healthy, t.observed)
            } else if t.observed == 0 {
                "…".into()
            } else if t.down == 0 && t.healthy == 0 {
                // observed, but neither down nor healthy: degraded, or still building
                // the streak a vote needs
                format!("~ {}", t.observed)
            } else {
                format!("? {}v {}^", t.down, t.healthy)
            };
            let role = match e.role() {
                Some(Role::Primary) => "PRIMARY",
                Some(Role::Standby) => "standby",
                Some(Role::Quarantined) => "QUARANTINED",
                Some(Role::Retired) => "retired",
                None => "?",
            };
            format!(
                "g{} {} {role} [{verdict}]",
                e.group,
                endpoint_name(v, simulated, e.id)
            )
        })
        .collect();
    format!(
        "slot {:>6} | epoch {:>2} | {}",
        v.slot,
        v.topology.epoch,
        parts.join(" | ")
    )
}

/// Phase 0: the cluster, the topology applied, the keepers running.
async fn setup(a: &DemoArgs) -> Result<Demo, Failure> {
    let slot_ms: u64 = if a.fast { 100 } else { 400 };
    let localnet = if a.keep_running {
        LocalnetConfig::default()
    } else {
        LocalnetConfig::ephemeral()
    };
    let probe_ms = (slot_ms * 5 / 4).max(100);
    say!("Lifeline demo — scenario: {:?}", a.scenario);
    let sb = Sandbox::start(SandboxConfig {
        name: "demo-dex".into(),
        slot: Duration::from_millis(slot_ms),
        endpoints: 2,
        groups: vec![vec![0, 1], vec![2, 3], vec![4, 5]],
        policy: demo_policy(),
        keepers: 4,
        endpoint_labels: (0..6)
            .map(|i| {
                (
                    REGIONS[i % 4].to_string(),
                    PROVIDERS[(i + i / 4) % 4].to_string(),
                )
            })
            .collect(),
        keeper_labels: (0..4)
            .map(|i| (REGIONS[i].to_string(), PROVIDERS[(i + 1) % 4].to_string()))
            .collect(),
        keeper_options: vec![("jitter_ms".into(), (slot_ms * 2).to_string())],
        probe_interval: Duration::from_millis(probe_ms),
        localnet: LocalnetConfig {
            websocket_endpoints: 2,
            oracle_endpoints: 2,
            ..localnet
        },
        ..SandboxConfig::default()
    })
    .await
    .map_err(|e| Failure::world(format!("cannot start the demo: {e}")))?;
    say!(
        "● localnet up: {} ({slot_ms} ms slots), program {}",
        sb.net.rpc_url,
        lifeline::ID
    );
    let simulated = sb.net.simulated();
    for (g, (serves, names)) in GROUPS.iter().enumerate() {
        for (n, name) in names.iter().enumerate() {
            let e = simulated.iter().find(|e| e.name == *name).expect("started");
            say!(
                "  {name} {}  (group {g}: {serves}, {})",
                e.url,
                if n == 0 { "primary" } else { "standby" }
            );
        }
    }
    say!(
        "● lifeline apply: {} steps (network, 4 keepers, 6 endpoints of 3 kinds)",
        sb.applied.len()
    );
    say!("  network {}", sb.network);
    say!("● 4 keepers probing every {probe_ms} ms (quorum 3 of 4)");
    Ok(Demo {
        sb,
        slot_ms,
        started: Instant::now(),
        last_line: Instant::now() - Duration::from_secs(10),
    })
}

/// A client following the topology the whole time: nothing it asks may be lost.
struct Client {
    watcher: TopologyWatcher,
    stop: tokio::sync::watch::Sender<bool>,
    task: JoinHandle<(u64, u64)>,
}

async fn follow(d: &Demo) -> Result<Client, Failure> {
    let watcher = TopologyWatcher::start(WatcherConfig::new(
        d.sb.net.rpc_url.clone(),
        Some(d.sb.net.ws_url.clone()),
        d.sb.network,
    ))
    .await
    .map_err(|e| Failure::world(e.to_string()))?;
    let router = FailoverRpc::following(
        &watcher,
        RouterConfig {
            timeout: Duration::from_millis(1_500),
            ..RouterConfig::default()
        },
    );
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(async move {
        let rpc = router.into_rpc_client(CommitmentConfig::processed());
        let (mut ok, mut failed) = (0u64, 0u64);
        while !*stop_rx.borrow() {
            match rpc.get_slot().await {
                Ok(_) => ok += 1,
                Err(_) => failed += 1,
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        (ok, failed)
    });
    Ok(Client {
        watcher,
        stop,
        task,
    })
}

/// Phase 1: nothing fails; keepers attest while their streaks build, then fall quiet.
async fn steady(d: &mut Demo) {
    d.phase("steady state: keepers attest what they see, then only on change or as a heartbeat");
    let until = Instant::now() + Duration::from_millis(d.slot_ms * 12);
    while Instant::now() < until {
        let state = d.sb.state();
        d.line(&state, 4);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Phase 2: the fault, until the chain records the migration.
async fn fail(
    d: &mut Demo,
    scenario: Scenario,
    client: &Client,
) -> Result<(MigrationRecord, Duration), Failure> {
    let before = d.sb.topology().history_total;
    d.phase(&format!(
        "fault: ep0 (primary of group 0) {}",
        scenario.story()
    ));
    d.sb.fault("ep0", scenario.fault());
    let fault_at = Instant::now();
    let deadline = fault_at + Duration::from_millis(d.slot_ms * 150);
    let migrated = loop {
        let state = d.sb.state();
        if state.topology.history_total > before {
            break state;
        }
        if Instant::now() > deadline {
            return Err(Failure::world(
                "no migration happened in time: this is a bug, please report it",
            ));
        }
        d.line(&state, 3);
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let took = fault_at.elapsed();
    let m = *migrated
        .topology
        .recent_migrations()
        .next()
        .expect("a migration record");
    d.phase(&format!(
        "MIGRATION after {:.1} s: group {} {} → {}  (rule {:?}: {}; {} keepers voted; median lag {} slots, latency {} ms; epoch {} → {})",
        took.as_secs_f64(),
        m.group,
        d.name(&migrated, m.from_id),
        d.name(&migrated, m.to_id),
        Reason::from_u8(m.rule),
        describe::reason(Reason::from_u8(m.rule)),
        m.voter_count,
        m.median_slot_lag,
        m.median_latency_ms,
        m.new_epoch - 1,
        m.new_epoch
    ));
    if let Some(e) = migrated.topology.endpoint(m.from_id) {
        say!(
            "  {} quarantined until slot {} ({} ejection{}), no governance vote needed",
            d.name(&migrated, e.id),
            e.quarantine_until_slot,
            e.ejection_count,
            if e.ejection_count == 1 { "" } else { "s" }
        );
    }
    say!("  {}", status_line(&migrated, &d.sb.net.simulated()));
    let mut view = client.watcher.subscribe();
    let _ = tokio::time::timeout(
        Duration::from_secs(5),
        view.wait_for(|v| v.epoch >= migrated.topology.epoch),
    )
    .await;
    say!(
        "  clients following the topology now use {}",
        client
            .watcher
            .current()
            .primary(0)
            .map_or("?".into(), |p| p.url.clone())
    );
    Ok((m, took))
}

/// Phase 3: the failed node recovers, sits out quarantine and probation, is readmitted.
async fn recover(d: &mut Demo, m: &MigrationRecord) -> Result<ChainState, Failure> {
    tokio::time::sleep(Duration::from_millis(d.slot_ms * 5)).await;
    d.phase(
        "ep0 recovers; it must sit out its quarantine and stay healthy for the probation period",
    );
    d.sb.fault("ep0", Fault::Healthy);
    let deadline = Instant::now() + Duration::from_millis(d.slot_ms * 300);
    loop {
        let state = d.sb.state();
        if state.topology.endpoint(m.from_id).and_then(|e| e.role()) == Some(Role::Standby) {
            d.phase(&format!(
                "READMITTED: {} is a standby again (slot {})",
                d.name(&state, m.from_id),
                state.slot
            ));
            say!("  {}", status_line(&state, &d.sb.net.simulated()));
            return Ok(state);
        }
        if Instant::now() > deadline {
            return Err(Failure::world(
                "ep0 was not readmitted in time: this is a bug, please report it",
            ));
        }
        d.line(&state, 6);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Phase 4: what it took.
async fn summary(d: &mut Demo, client: Client, took: Duration, end: &ChainState) {
    let _ = client.stop.send(true);
    let (ok, failed) = client.task.await.unwrap_or((0, 0));
    // let every keeper finish what it is sending, so the counts are final
    d.sb.stop_keepers().await;
    let attestations = d.sb.total(|s| &s.attestations_sent);
    let readmissions = d.sb.total(|s| &s.readmissions_sent);
    let races = d.sb.total(|s| &s.races_lost);
    say!("\n■ summary");
    say!(
        "  fault → migration confirmed    {:.1} s",
        took.as_secs_f64()
    );
    // migrations as the chain recorded them: the attestation that completes a quorum
    // migrates in its own transaction
    say!(
        "  migrations / readmissions       {} / {readmissions} (transactions that lost a race: {races})",
        end.topology.history_total
    );
    say!("  keeper attestations             {attestations} (4 keepers, the whole story)");
    say!("  client requests                 {ok} served, {failed} failed (routed by FailoverRpc)");
    say!(
        "  total demo time                 {:.0} s",
        d.started.elapsed().as_secs_f64()
    );
    if failed > 0 {
        say!("  note: {failed} client requests failed during the failover");
    }
}

/// Phase 5 (`--keep-running`): everything stays up until Ctrl-C.
async fn keep_running(d: &mut Demo, shutdown: &mut Shutdown) -> Result<(), Failure> {
    for k in 0..d.sb.keepers.len() {
        d.sb.start_keeper(k).await.map_err(Failure::world)?;
    }
    let net = &d.sb.net;
    say!("\nstill running (Ctrl-C to stop):");
    say!(
        "  JSON-RPC   {}\n  WebSocket  {}\n  admin      {}\n  network    {}",
        net.rpc_url,
        net.ws_url,
        net.admin_url.clone().unwrap_or_default(),
        d.sb.network
    );
    say!(
        "  dashboard  `npm --prefix app ci && npm --prefix app run dev`, then open\n             http://localhost:5173/?rpc={}&network={}",
        net.rpc_url, d.sb.network
    );
    // Name the endpoint that serves group 0 now (the demo moved the role), so the
    // suggested fault really triggers a failover.
    let state = d.sb.state();
    let primary = state.topology.primary_of(0).map_or("ep0".to_string(), |e| {
        endpoint_name(&state, &net.simulated(), e.id)
    });
    say!(
        "  fail group 0's primary ({primary}) and watch the failover:\n             curl -X POST -d frozen {}/endpoints/{primary}/fault",
        net.admin_url.clone().unwrap_or_default()
    );
    shutdown.wait().await;
    Ok(())
}

pub async fn demo(a: DemoArgs) -> Result<(), Failure> {
    let mut shutdown =
        Shutdown::install().map_err(|e| Failure::world(format!("signal handlers: {e}")))?;
    lifeline_localnet::console::divert()
        .map_err(|e| Failure::world(format!("cannot set up the console: {e}")))?;
    let mut d = setup(&a).await?;
    let client = follow(&d).await?;
    steady(&mut d).await;
    let (m, took) = fail(&mut d, a.scenario, &client).await?;
    let end = recover(&mut d, &m).await?;
    summary(&mut d, client, took, &end).await;
    if a.keep_running {
        keep_running(&mut d, &mut shutdown).await?;
    }
    d.sb.stop_keepers().await;
    Ok(())
}
