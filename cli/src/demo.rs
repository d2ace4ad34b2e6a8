//! `lifeline demo`: the failover story on an embedded default, with no configuration and
//! no Solana toolchain. A localnet with four simulated RPC endpoints in two groups, four
//! real keepers (the daemon code, in-process, each with its own key), the network created
//! through the same planner as `lifeline apply`, a client following the topology through
//! `FailoverRpc` the whole time, and a scenario narrated as it happens.
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anchor_lang::prelude::Pubkey;
use lifeline::engine::{collect, policy::effective_quorum, tally};
use lifeline::state::{Reason, Role};
use lifeline_client::{pda, FailoverRpc, RouterConfig, TopologyWatcher, WatcherConfig};
use lifeline_keeper::config::load as load_keeper_config;
use lifeline_keeper::{Keeper, KeeperStats};
use lifeline_localnet::{Fault, Localnet, LocalnetConfig};
use solana_commitment_config::CommitmentConfig;
use solana_keypair::Keypair;
use solana_signer::Signer;

use crate::chain::{Chain, Failure};
use crate::plan::{plan, resolve_promotion, Spec};

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

/// The demo's topology, applied through the same planner as `lifeline apply`.
fn topology_file(urls: &[String], keepers: &[Pubkey]) -> String {
    let mut t = String::from(
        "[network]\nname = \"demo-dex\"\n\n[policy]\nstaleness_slots = 30\nlag_degraded_slots = 4\nlag_down_slots = 8\nlatency_degraded_ms = 1500\nlatency_down_ms = 3000\nbreach_windows = 2\nrecovery_windows = 2\ncooldown_slots = 20\nquarantine_base_slots = 40\nquarantine_max_slots = 400\nprobation_slots = 15\n",
    );
    let regions = ["eu-west", "us-east", "ap-south", "eu-central"];
    let providers = ["aws", "gcp", "ovh", "hetzner"];
    for (i, k) in keepers.iter().enumerate() {
        t.push_str(&format!(
            "\n[[keeper]]\npubkey = \"{k}\"\nregion = \"{}\"\nprovider = \"{}\"\n",
            regions[i % 4],
            providers[(i + 1) % 4]
        ));
    }
    for (i, url) in urls.iter().enumerate() {
        let (group, role) = (i / 2, if i % 2 == 0 { "primary" } else { "standby" });
        t.push_str(&format!(
            "\n[[endpoint]]\ngroup = {group}\nrole = \"{role}\"\nurl = \"{url}\"\nregion = \"{}\"\nprovider = \"{}\"\n",
            regions[i % 4],
            providers[i % 4]
        ));
    }
    t
}

type View = lifeline_client::ChainState;

async fn read(chain: &Chain, network: &Pubkey) -> Result<View, Failure> {
    chain
        .state(network)
        .await
        .map_err(|f| Failure::world(format!("the demo network vanished: {}", f.message)))
}

/// One line: slot, epoch, and per endpoint its role and the keepers' quorum verdict.
fn status_line(v: &View, names: &[(String, String)]) -> String {
    let snap = v.snapshot();
    let ballot = collect(&snap);
    let q = effective_quorum(&v.network.policy, v.network.keeper_count as usize);
    let mut parts = Vec::new();
    for e in v.topology.endpoints() {
        let t = tally(&snap, &ballot, e.id);
        let verdict = if t.down as usize >= q {
            format!("DOWN {}/{}", t.down, t.observed)
        } else if t.healthy as usize >= q {
            format!("ok {}/{}", t.healthy, t.observed)
        } else if t.observed == 0 {
            "…".into()
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
        let name = names
            .iter()
            .find(|(u, _)| u == e.url())
            .map_or("?", |(_, n)| n.as_str());
        parts.push(format!("g{} {name} {role} [{verdict}]", e.group));
    }
    format!(
        "slot {:>6} | epoch {:>2} | {}",
        v.slot,
        v.topology.epoch,
        parts.join(" | ")
    )
}

fn sent(stats: &[Arc<KeeperStats>]) -> (u64, u64, u64, u64) {
    let sum = |f: fn(&KeeperStats) -> u64| stats.iter().map(|s| f(s)).sum::<u64>();
    (
        sum(|s| s.attestations_sent.load(Ordering::Relaxed)),
        sum(|s| s.migrations_sent.load(Ordering::Relaxed)),
        sum(|s| s.readmissions_sent.load(Ordering::Relaxed)),
        sum(|s| s.races_lost.load(Ordering::Relaxed)),
    )
}

pub async fn demo(a: DemoArgs) -> Result<(), Failure> {
    let started = Instant::now();
    let slot_ms: u64 = if a.fast { 100 } else { 400 };
    let config = if a.keep_running {
        LocalnetConfig {
            endpoints: 4,
            slot_duration: Duration::from_millis(slot_ms),
            ..LocalnetConfig::default()
        }
    } else {
        LocalnetConfig {
            endpoints: 4,
            slot_duration: Duration::from_millis(slot_ms),
            ..LocalnetConfig::ephemeral()
        }
    };
    println!("Lifeline demo — scenario: {:?}", a.scenario);
    let net = Localnet::start(config)
        .await
        .map_err(|e| Failure::input(format!("cannot start the localnet: {e}")))?;
    println!(
        "● localnet up: {} ({} ms slots), program {}",
        net.rpc_url,
        slot_ms,
        lifeline::ID
    );
    let urls = net.endpoint_urls();
    let names: Vec<(String, String)> = urls
        .iter()
        .enumerate()
        .map(|(i, u)| (u.clone(), format!("ep{i}")))
        .collect();
    for (i, u) in urls.iter().enumerate() {
        println!(
            "  ep{i} {u}  (group {}, {})",
            i / 2,
            if i % 2 == 0 { "primary" } else { "standby" }
        );
    }

    // The protocol team applies its topology file.
    let authority = net
        .funded_keypairs(1, 50_000_000_000)
        .map_err(|e| Failure::world(e.to_string()))?
        .pop()
        .unwrap();
    let keepers: Vec<Keypair> = net
        .funded_keypairs(4, 5_000_000_000)
        .map_err(|e| Failure::world(e.to_string()))?;
    let spec = Spec::parse(&topology_file(
        &urls,
        &keepers.iter().map(|k| k.pubkey()).collect::<Vec<_>>(),
    ))
    .map_err(Failure::world)?;
    let chain = Chain::new(&net.rpc_url);
    let network = pda::network(&authority.pubkey(), &spec.network.name).0;
    let steps = plan(&spec, &authority.pubkey(), None);
    println!(
        "● lifeline apply: {} steps (network, 4 keepers, 4 endpoints)",
        steps.len()
    );
    for s in &steps {
        let ix = if s.description.starts_with("promote ") {
            let t = chain
                .network(&network)
                .await?
                .ok_or_else(|| Failure::world("network missing"))?
                .1;
            resolve_promotion(s, &spec, &authority.pubkey(), &t)
                .ok_or_else(|| Failure::world("cannot resolve promotion"))?
        } else {
            s.instruction.clone()
        };
        chain.send(&authority, ix).await?;
    }
    println!("  network {network}");

    // Four keepers, each its own key and process-like task.
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let probe_ms = (slot_ms * 5 / 4).max(100);
    let mut stats = Vec::new();
    for k in &keepers {
        let cfg = load_keeper_config(
            None,
            Vec::<(String, String)>::new(),
            &[
                ("network", network.to_string()),
                ("url", net.rpc_url.clone()),
                ("probe_interval_ms", probe_ms.to_string()),
                ("jitter_ms", (slot_ms * 2).to_string()),
            ],
        )
        .map_err(|e| Failure::world(e.to_string()))?;
        let keeper = Keeper::new(cfg, k.insecure_clone())
            .await
            .map_err(|e| Failure::world(e.to_string()))?;
        stats.push(keeper.stats());
        tokio::spawn(keeper.run(stop_rx.clone()));
    }
    println!("● 4 keepers probing every {probe_ms} ms (quorum 3 of 4)");

    // A client following the topology the whole time: nothing it asks may be lost.
    let watcher = TopologyWatcher::start(WatcherConfig::new(
        net.rpc_url.clone(),
        Some(net.ws_url.clone()),
        network,
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
    let client_stop = stop_rx.clone();
    let client_router = router.clone();
    let client = tokio::spawn(async move {
        let rpc = client_router.into_rpc_client(CommitmentConfig::processed());
        let (mut ok, mut failed) = (0u64, 0u64);
        while !*client_stop.borrow() {
            match rpc.get_slot().await {
                Ok(_) => ok += 1,
                Err(_) => failed += 1,
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        (ok, failed)
    });

    // 1. Steady state.
    let phase = |msg: &str| println!("\n▶ {msg}");
    phase("steady state: keepers attest once, then only on change or as a heartbeat");
    let until = Instant::now() + Duration::from_millis(slot_ms * 12);
    let mut last_line = Instant::now() - Duration::from_secs(10);
    while Instant::now() < until {
        if last_line.elapsed() >= Duration::from_millis(slot_ms * 4) {
            println!("  {}", status_line(&read(&chain, &network).await?, &names));
            last_line = Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // 2. The fault.
    let before = read(&chain, &network).await?;
    phase(&format!(
        "fault: ep0 (primary of group 0) {}",
        a.scenario.story()
    ));
    net.faults
        .set("ep0", a.scenario.fault())
        .map_err(Failure::world)?;
    let fault_at = Instant::now();
    let deadline = fault_at + Duration::from_millis(slot_ms * 150);
    let migrated = loop {
        let v = read(&chain, &network).await?;
        if v.topology.history_total > before.topology.history_total {
            break v;
        }
        if Instant::now() > deadline {
            let _ = stop.send(true);
            return Err(Failure::world(
                "no migration happened in time: this is a bug, please report it",
            ));
        }
        if last_line.elapsed() >= Duration::from_millis(slot_ms * 3) {
            println!("  {}", status_line(&v, &names));
            last_line = Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let failover_time = fault_at.elapsed();
    let m = *migrated
        .topology
        .recent_migrations()
        .next()
        .expect("a migration record");
    let name = |id: u32| {
        migrated
            .topology
            .endpoint(id)
            .map_or(format!("#{id}"), |e| {
                names
                    .iter()
                    .find(|(u, _)| u == e.url())
                    .map_or(format!("#{id}"), |(_, n)| n.clone())
            })
    };
    phase(&format!(
        "MIGRATION after {:.1} s: group {} {} → {}  (rule {:?}; {} keepers voted; median lag {} slots, latency {} ms; epoch {} → {})",
        failover_time.as_secs_f64(),
        m.group,
        name(m.from_id),
        name(m.to_id),
        Reason::from_u8(m.rule),
        m.voter_count,
        m.median_slot_lag,
        m.median_latency_ms,
        m.new_epoch - 1,
        m.new_epoch
    ));
    let ejected = migrated.topology.endpoint(m.from_id).copied();
    if let Some(e) = ejected {
        println!(
            "  {} quarantined until slot {} ({} ejection{}), no governance vote needed",
            name(e.id),
            e.quarantine_until_slot,
            e.ejection_count,
            if e.ejection_count == 1 { "" } else { "s" }
        );
    }
    println!("  {}", status_line(&migrated, &names));
    let mut follow = watcher.subscribe();
    let _ = tokio::time::timeout(
        Duration::from_secs(5),
        follow.wait_for(|v| v.epoch >= migrated.topology.epoch),
    )
    .await;
    println!(
        "  clients following the topology now use {}",
        watcher
            .current()
            .primary(0)
            .map_or("?".into(), |p| p.url.clone())
    );

    // 3. Recovery, probation, readmission.
    tokio::time::sleep(Duration::from_millis(slot_ms * 5)).await;
    phase("ep0 recovers; it must sit out its quarantine and stay healthy for the probation period");
    net.faults
        .set("ep0", Fault::Healthy)
        .map_err(Failure::world)?;
    let deadline = Instant::now() + Duration::from_millis(slot_ms * 300);
    let readmitted = loop {
        let v = read(&chain, &network).await?;
        if v.topology.endpoint(m.from_id).and_then(|e| e.role()) == Some(Role::Standby) {
            break v;
        }
        if Instant::now() > deadline {
            let _ = stop.send(true);
            return Err(Failure::world(
                "ep0 was not readmitted in time: this is a bug, please report it",
            ));
        }
        if last_line.elapsed() >= Duration::from_millis(slot_ms * 6) {
            println!("  {}", status_line(&v, &names));
            last_line = Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    phase(&format!(
        "READMITTED: {} is a standby again (slot {})",
        name(m.from_id),
        readmitted.slot
    ));
    println!("  {}", status_line(&readmitted, &names));

    // 4. Summary.
    let _ = stop.send(true);
    let (ok, failed) = client.await.unwrap_or((0, 0));
    let (attestations, _, readmissions, races) = sent(&stats);
    // migrations as the chain recorded them (an attestation that completes a quorum
    // migrates in its own transaction, so keepers rarely send a separate trigger)
    let migrations = readmitted.topology.history_total;
    println!("\n■ summary");
    println!(
        "  fault → migration confirmed    {:.1} s",
        failover_time.as_secs_f64()
    );
    println!("  migrations / readmissions       {migrations} / {readmissions} (transactions that lost a race: {races})");
    println!("  keeper attestations             {attestations}");
    println!(
        "  client requests                 {ok} served, {failed} failed (routed by FailoverRpc)"
    );
    println!(
        "  total demo time                 {:.0} s",
        started.elapsed().as_secs_f64()
    );
    if failed > 0 {
        println!("  note: {failed} client requests failed during the failover");
    }

    if a.keep_running {
        // Register the handlers before announcing anything: tokio's ctrl_c() only
        // installs its handler when first polled, and a signal before that kills us.
        use tokio::signal::unix::{signal, SignalKind};
        let mut interrupt =
            signal(SignalKind::interrupt()).map_err(|e| Failure::world(e.to_string()))?;
        let mut terminate =
            signal(SignalKind::terminate()).map_err(|e| Failure::world(e.to_string()))?;
        println!("\nstill running (Ctrl-C to stop):");
        println!(
            "  JSON-RPC   {}\n  WebSocket  {}\n  admin      {}\n  network    {network}",
            net.rpc_url,
            net.ws_url,
            net.admin_url.clone().unwrap_or_default()
        );
        println!(
            "  dashboard  `npm --prefix app ci && npm --prefix app run dev`, then open\n             http://localhost:5173/?rpc={}&network={network}",
            net.rpc_url
        );
        // Name the endpoint that serves group 0 now (the demo moved the role), so the
        // suggested fault really triggers a failover.
        let primary = read(&chain, &network)
            .await
            .ok()
            .and_then(|v| v.topology.primary_of(0).map(|e| e.url().to_string()))
            .and_then(|url| {
                names
                    .iter()
                    .find(|(u, _)| *u == url)
                    .map(|(_, n)| n.clone())
            })
            .unwrap_or_else(|| "ep0".into());
        println!(
            "  fail group 0's primary ({primary}) and watch the failover:\n             curl -X POST -d frozen {}/endpoints/{primary}/fault",
            net.admin_url.clone().unwrap_or_default()
        );
        let (restart, restart_rx) = tokio::sync::watch::channel(false);
        for k in &keepers {
            let cfg = load_keeper_config(
                None,
                Vec::<(String, String)>::new(),
                &[
                    ("network", network.to_string()),
                    ("url", net.rpc_url.clone()),
                    ("probe_interval_ms", probe_ms.to_string()),
                ],
            )
            .map_err(|e| Failure::world(e.to_string()))?;
            if let Ok(keeper) = Keeper::new(cfg, k.insecure_clone()).await {
                tokio::spawn(keeper.run(restart_rx.clone()));
            }
        }
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
        let _ = restart.send(true);
    }
    net.shutdown();
    Ok(())
}
