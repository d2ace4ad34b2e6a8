//! Failover time and keeper transaction volume, on the localnet with real keepers:
//!   cargo bench -p lifeline-keeper --bench failover
//! Fault onset → migration confirmed (the Topology shows the new primary), ≥ 20 trials
//! per probe interval (0.5 s, 1 s, 2 s), 4 keepers, quorum 3 of 4, 400 ms slots; then
//! attestations per keeper-hour at steady state against a naive keeper that attests
//! every probe.
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use lifeline::instructions::{AddEndpointArgs, AddKeeperArgs, CreateNetworkArgs};
use lifeline::state::{PolicyParams, Role};
use lifeline_client::{accounts, ix, pda};
use lifeline_keeper::Keeper;
use lifeline_localnet::{Fault, Localnet, LocalnetConfig};
use solana_account::ReadableAccount;
use solana_keypair::Keypair;
use solana_signer::Signer;

const TRIALS: usize = 20;

fn policy() -> PolicyParams {
    PolicyParams {
        staleness_slots: 30,
        lag_degraded_slots: 4,
        lag_down_slots: 8,
        breach_windows: 2,
        recovery_windows: 2,
        ..PolicyParams::default()
    }
}

struct Bed {
    net: Localnet,
    authority: Keypair,
    keepers: Vec<Keypair>,
}

impl Bed {
    fn send(&self, ix: solana_instruction::Instruction) {
        self.net.send(&self.authority, &[ix]).expect("lands");
    }

    /// A fresh network (ep0 primary, ep1 standby, the 4 keepers) and its running keepers.
    async fn network(
        &self,
        name: &str,
        probe_ms: u64,
    ) -> (
        anchor_lang::prelude::Pubkey,
        tokio::sync::watch::Sender<bool>,
        Vec<std::sync::Arc<lifeline_keeper::KeeperStats>>,
    ) {
        self.send(ix::create_network(
            &self.authority.pubkey(),
            CreateNetworkArgs {
                name: name.into(),
                policy: policy(),
                guardian: None,
            },
        ));
        let network = pda::network(&self.authority.pubkey(), name).0;
        for (i, k) in self.keepers.iter().enumerate() {
            self.send(ix::add_keeper(
                &network,
                &self.authority.pubkey(),
                AddKeeperArgs {
                    keeper: k.pubkey(),
                    region: format!("r{i}"),
                    provider: format!("p{i}"),
                },
            ));
        }
        for (i, url) in self.net.endpoint_urls().iter().enumerate() {
            let role = if i == 0 { Role::Primary } else { Role::Standby };
            self.send(ix::add_endpoint(
                &network,
                &self.authority.pubkey(),
                AddEndpointArgs {
                    group: 0,
                    kind: 0,
                    role: role as u8,
                    priority: 0,
                    url: url.clone(),
                    region: format!("r{i}"),
                    provider: format!("p{i}"),
                },
            ));
        }
        tokio::time::sleep(Duration::from_millis(900)).await;
        let (stop, rx) = tokio::sync::watch::channel(false);
        let mut stats = Vec::new();
        for k in &self.keepers {
            let cfg = lifeline_keeper::config::load(
                None,
                Vec::<(String, String)>::new(),
                &[
                    ("network", network.to_string()),
                    ("url", self.net.rpc_url.clone()),
                    ("probe_interval_ms", probe_ms.to_string()),
                    ("jitter_ms", "400".into()),
                ],
            )
            .unwrap();
            let keeper = Keeper::new(cfg, k.insecure_clone()).await.unwrap();
            stats.push(keeper.stats());
            tokio::spawn(keeper.run(rx.clone()));
        }
        (network, stop, stats)
    }

    fn migrations(&self, network: &anchor_lang::prelude::Pubkey) -> u64 {
        let acc = self
            .net
            .cluster
            .working_bank()
            .get_account(&pda::topology(network).0)
            .unwrap();
        accounts::topology(acc.data()).unwrap().history_total
    }
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

async fn trials(bed: &Bed, fault: Fault, probe_ms: u64, label: &str) -> Vec<f64> {
    let mut times = Vec::new();
    for t in 0..TRIALS {
        bed.net.faults.set("ep0", Fault::Healthy).unwrap();
        let (network, stop, stats) = bed
            .network(&format!("{label}-{probe_ms}-{t}"), probe_ms)
            .await;
        let deadline = Instant::now() + Duration::from_secs(30);
        while stats
            .iter()
            .any(|s| s.attestations_sent.load(Ordering::Relaxed) == 0)
        {
            assert!(Instant::now() < deadline, "keepers never attested");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // start the fault at a random phase of the probe interval
        tokio::time::sleep(Duration::from_millis((t as u64 * 137) % probe_ms)).await;
        bed.net.faults.set("ep0", fault).unwrap();
        let onset = Instant::now();
        while bed.migrations(&network) == 0 {
            assert!(
                onset.elapsed() < Duration::from_secs(60),
                "no migration within 60 s"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        times.push(onset.elapsed().as_secs_f64());
        let _ = stop.send(true);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    times.sort_by(|a, b| a.partial_cmp(b).unwrap());
    times
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let net = Localnet::start(LocalnetConfig {
        endpoints: 2,
        ..LocalnetConfig::ephemeral()
    })
    .await
    .unwrap();
    let authority = net
        .funded_keypairs(1, 500_000_000_000)
        .unwrap()
        .pop()
        .unwrap();
    let keepers = net.funded_keypairs(4, 100_000_000_000).unwrap();
    let bed = Bed {
        net,
        authority,
        keepers,
    };
    let slot_ms = bed.net.cluster.slot_duration().as_millis();

    println!("failover time: fault onset -> migration confirmed ({TRIALS} trials each; 4 keepers, quorum 3; {slot_ms} ms slots; breach_windows 2)");
    println!(
        "  {:<24} {:>8} {:>8} {:>8} {:>8}",
        "setting", "p50 s", "p99 s", "min s", "max s"
    );
    let mut rows = Vec::new();
    for (fault, label) in [(Fault::Down, "down"), (Fault::Frozen, "frozen")] {
        for probe_ms in [500u64, 1_000, 2_000] {
            let t = trials(&bed, fault, probe_ms, label).await;
            let row = format!(
                "  {:<24} {:>8.2} {:>8.2} {:>8.2} {:>8.2}",
                format!("{label}, probes {probe_ms} ms"),
                pct(&t, 0.5),
                pct(&t, 0.99),
                t[0],
                t[t.len() - 1]
            );
            println!("{row}");
            rows.push(row);
        }
    }

    // steady state: how many attestations does a keeper send per hour when nothing changes?
    bed.net.faults.set("ep0", Fault::Healthy).unwrap();
    let window = Duration::from_secs(60);
    let (_network, stop, stats) = bed.network("steady", 1_000).await;
    tokio::time::sleep(Duration::from_secs(5)).await; // past the first attestations
    let before: u64 = stats
        .iter()
        .map(|s| s.attestations_sent.load(Ordering::Relaxed))
        .sum();
    tokio::time::sleep(window).await;
    let sent: u64 = stats
        .iter()
        .map(|s| s.attestations_sent.load(Ordering::Relaxed))
        .sum::<u64>()
        - before;
    let _ = stop.send(true);
    let per_hour = sent as f64 / 4.0 * 3600.0 / window.as_secs_f64();
    // a naive keeper attests once per probe interval (1 s)
    let naive = 3600.0;
    println!(
        "steady state, 1 s probes, nothing failing ({}s window):",
        window.as_secs()
    );
    println!("  attestations per keeper-hour   {per_hour:>8.0}");
    println!(
        "  naive (one per probe)          {naive:>8.0}   ({:.1}x more)",
        naive / per_hour.max(1.0)
    );
    bed.net.shutdown();
}
