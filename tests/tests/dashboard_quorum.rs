//! Keeps the dashboard's TypeScript mirror of the ballot (app/src/lib/quorum.ts) and its
//! account decoding (the Codama client) in step with the program. This test builds
//! pseudo-random networks, topologies and keeper reports as the program stores them
//! (real account bytes), asks the engine for its ballot and tallies, and compares the
//! result with the committed app/test/fixtures/quorum-cases.json; vitest
//! (app/src/lib/conformance.test.ts) decodes the same bytes and must get the same tallies.
//!
//! After a deliberate change to the engine or the account layout:
//!   LIFELINE_BLESS=1 cargo test -p lifeline-tests --test dashboard_quorum
use std::path::PathBuf;

use anchor_lang::prelude::Pubkey;
use anchor_lang::{Discriminator, ZeroCopy};
use base64::Engine as _;
use bytemuck::Zeroable;
use lifeline::engine::{collect, decide_migration, tally, Refusal, Snapshot};
use lifeline::state::{text, Endpoint, KeeperReport, Network, PolicyParams, Role, Topology};
use serde_json::{json, Value};

const CASES: usize = 32;

/// xorshift64*: deterministic, so the fixture is stable across runs and machines.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// The account's bytes as the program stores them, sparse to keep the fixture small (the
/// accounts are mostly zeros): `size` bytes, zero except for each `[offset, base64]` run.
fn account_bytes<T: ZeroCopy + Discriminator>(value: &T) -> Value {
    let mut data = T::DISCRIMINATOR.to_vec();
    data.extend_from_slice(bytemuck::bytes_of(value));
    let mut runs = Vec::new();
    let mut i = 0;
    while i < data.len() {
        if data[i] == 0 {
            i += 1;
            continue;
        }
        // A run ends at 16 zeros in a row (shorter gaps are cheaper kept inline).
        let start = i;
        let mut zeros = 0;
        while i < data.len() && zeros < 16 {
            zeros = if data[i] == 0 { zeros + 1 } else { 0 };
            i += 1;
        }
        let end = i - zeros;
        runs.push(json!([
            start,
            base64::engine::general_purpose::STANDARD.encode(&data[start..end])
        ]));
    }
    json!({ "size": data.len(), "runs": runs })
}

fn key(tag: u8, i: usize) -> Pubkey {
    let mut b = [0u8; 32];
    b[0] = tag;
    b[1] = i as u8;
    b[31] = 1;
    Pubkey::new_from_array(b)
}

fn case(rng: &mut Rng) -> Value {
    // Now and then a young chain (now < cooldown): "never migrated" must not mean "in cooldown".
    let now = if rng.chance(25) {
        60 + rng.below(80)
    } else {
        10_000 + rng.below(1_000)
    };
    let network_key = key(1, 0);
    let keepers = 1 + rng.below(5) as usize;
    // A third of the cases pit several healthy standbys against each other after group
    // 0's primary fails (honest keepers, default quorum), so the choice among them
    // (labels, priority, latency, id) counts.
    let contest = rng.chance(35);
    let honesty = if contest { 100 } else { 80 };
    let params = PolicyParams {
        quorum: if contest {
            0
        } else {
            rng.below(keepers as u64 + 1) as u8
        },
        breach_windows: 1 + rng.below(3) as u8,
        recovery_windows: 1 + rng.below(3) as u8,
        staleness_slots: 20 + rng.below(40),
        probation_slots: rng.below(60),
        ..PolicyParams::default()
    };
    let mut network: Box<Network> = Box::new(Zeroable::zeroed());
    network.policy = params.into();
    network.name = text::to_fixed("conformance");
    // Keeper slots with holes: the voter bit is the slot index, not the order.
    let mut slot = 0usize;
    for i in 0..keepers {
        slot += rng.below(2) as usize;
        network.keepers[slot].keeper = key(2, i);
        network.keepers[slot].region = text::to_fixed(&format!("r{i}"));
        slot += 1;
    }
    network.keeper_count = keepers as u8;
    network.paused = u8::from(!contest && rng.chance(15));

    let mut topology: Box<Topology> = Box::new(Zeroable::zeroed());
    topology.network = network_key;
    topology.epoch = 7;
    // Group 0 always has a primary (id 0); group 1 sometimes has none (a vacant role).
    for group in 0..2 {
        if !(contest && group == 0) && rng.chance(70) {
            topology.last_migration_slot[group] =
                now.saturating_sub(rng.below(2 * params.cooldown_slots));
        }
    }
    let endpoints = 3 + rng.below(5) as u32;
    let group1_primary = rng.chance(50);
    for id in 0..endpoints {
        let group = if id == 0 || (contest && id < 5) {
            0
        } else {
            rng.below(2) as u8
        };
        let has_primary = topology.endpoints[..id as usize]
            .iter()
            .any(|e| e.group == group && e.role == Role::Primary as u8);
        let role = if id == 0 || (group == 1 && group1_primary && !has_primary) {
            Role::Primary
        } else if contest && id < 5 {
            Role::Standby
        } else {
            [
                Role::Standby,
                Role::Standby,
                Role::Standby,
                Role::Quarantined,
                Role::Retired,
            ][rng.below(5) as usize]
        };
        topology.endpoints[id as usize] = Endpoint {
            id,
            group,
            role: role as u8,
            priority: rng.below(3) as u8,
            url_len: 9,
            url: text::to_fixed(&format!("http://e{id}")),
            region: text::to_fixed(["eu", "us"][rng.below(2) as usize]),
            provider: text::to_fixed(["pa", "pb"][rng.below(2) as usize]),
            ..Endpoint::default()
        };
    }
    topology.endpoint_count = endpoints as u8;
    topology.next_endpoint_id = endpoints;

    // Reports: mostly fresh; some stale, future-dated, wrong epoch, from a stranger, or
    // a second one from the same keeper (the higher seq counts).
    // What each endpoint really is: down (3) or healthy (1).
    let truth: Vec<u8> = (0..endpoints)
        .map(|id| {
            let down = match (contest, id) {
                (true, 0) => 100,
                (true, 1..=4) => 0,
                (_, 0) => 75,
                _ => 35,
            };
            if rng.chance(down) {
                3
            } else {
                1
            }
        })
        .collect();
    let mut reports: Vec<Box<KeeperReport>> = Vec::new();
    let authors = keepers + rng.below(3) as usize;
    for a in 0..authors {
        let mut r: Box<KeeperReport> = Box::new(Zeroable::zeroed());
        r.network = if rng.chance(3) {
            key(9, 9)
        } else {
            network_key
        };
        r.keeper = if a < keepers {
            key(2, a)
        } else if rng.chance(50) {
            key(3, a)
        } else {
            key(2, 0)
        };
        r.seq = 1 + rng.below(20);
        r.topology_epoch = if rng.chance(5) { 6 } else { 7 };
        r.reference_slot = match rng.below(20) {
            0 => now.saturating_sub(params.staleness_slots + 1 + rng.below(10)),
            1 => now + 1,
            _ => now.saturating_sub(rng.below(params.staleness_slots + 1)),
        };
        r.submitted_slot = r.reference_slot;
        let mut n = 0;
        for id in 0..endpoints {
            if rng.chance(10) {
                continue; // this keeper did not observe the endpoint
            }
            let o = &mut r.observations[n];
            o.endpoint_id = id;
            // Mostly honest keepers agreeing on the truth (so quorums, and so decisions,
            // happen), some noise, and now and then a keeper that sees everything down
            // (cut off).
            o.verdict = if a % 4 == 3 {
                3
            } else if rng.chance(honesty) {
                truth[id as usize]
            } else {
                rng.below(4) as u8
            };
            o.consecutive_bad = if rng.chance(honesty) {
                3
            } else {
                rng.below(4) as u8
            };
            o.consecutive_good = if rng.chance(honesty) {
                3
            } else {
                rng.below(4) as u8
            };
            o.latency_ms = rng.below(5_000) as u32;
            o.slot_lag = rng.below(60) as u32;
            o.error_bps = rng.below(10_000) as u16;
            o.reason = 1 + rng.below(4) as u8;
            o.verdict_since_slot = now.saturating_sub(rng.below(120));
            n += 1;
        }
        r.observation_count = n as u8;
        reports.push(r);
    }

    let snap = Snapshot {
        network: &network,
        topology: &topology,
        now,
    };
    let refs: Vec<&KeeperReport> = reports.iter().map(|r| r.as_ref()).collect();
    let ballot = collect(&snap, &refs);
    let tallies: Vec<Value> = (0..endpoints)
        .map(|id| {
            let t = tally(&snap, &ballot, id);
            json!({
                "endpointId": id,
                "observed": t.observed,
                "down": t.down,
                "downVoters": t.down_voters,
                "healthy": t.healthy,
                "healthyVoters": t.healthy_voters,
                "probation": t.probation,
                "probationVoters": t.probation_voters,
                "medianLatencyMs": t.median_latency_ms,
                "medianSlotLag": t.median_slot_lag,
                "medianErrorBps": t.median_error_bps,
                "reason": t.reason as u8,
            })
        })
        .collect();
    let decisions: Vec<Value> = (0..2u8)
        .map(|group| match decide_migration(&snap, &ballot, group) {
            Ok(plan) => json!({
                "group": group,
                "kind": "migrate",
                "fromId": plan.from_id,
                "toId": plan.to_id,
                "rule": plan.rule as u8,
            }),
            Err(refusal) => {
                let (name, until) = match refusal {
                    Refusal::Paused => ("paused", None),
                    Refusal::NoBreachQuorum => ("no breach quorum", None),
                    Refusal::Cooldown { until_slot } => ("cooldown", Some(until_slot.to_string())),
                    Refusal::NoHealthyStandby => ("no healthy standby", None),
                    Refusal::NoPrimary => ("no primary", None),
                    other => panic!("unexpected refusal {other:?}"),
                };
                json!({ "group": group, "kind": "refused", "reason": name, "untilSlot": until })
            }
        })
        .collect();
    json!({
        "now": now.to_string(),
        "network": { "address": network_key.to_string(), "account": account_bytes(network.as_ref()) },
        "topology": { "address": key(4, 0).to_string(), "account": account_bytes(topology.as_ref()) },
        "reports": reports.iter().enumerate().map(|(i, r)| json!({
            "address": key(5, i).to_string(),
            "account": account_bytes(r.as_ref()),
        })).collect::<Vec<_>>(),
        "expected": {
            "quorum": ballot.quorum,
            "counted": ballot.counted.iter().map(|c| json!({
                "keeperIndex": c.keeper_index,
                "cutOff": c.cut_off,
            })).collect::<Vec<_>>(),
            "tallies": tallies,
            "decisions": decisions,
        },
    })
}

#[test]
fn dashboard_quorum_fixture_matches_the_engine() {
    let mut rng = Rng(0x5eed_1fe1_13e5);
    let cases: Vec<Value> = (0..CASES).map(|_| case(&mut rng)).collect();
    let fresh = serde_json::to_string_pretty(&json!({
        "programId": lifeline::ID.to_string(),
        "cases": cases,
    }))
    .unwrap()
        + "\n";
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../app/test/fixtures/quorum-cases.json");
    if std::env::var_os("LIFELINE_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &fresh).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "{} is stale: the engine or the account layout changed. Regenerate it with \
         `LIFELINE_BLESS=1 cargo test -p lifeline-tests --test dashboard_quorum`, then run \
         `npm test` in app/ to see whether the dashboard still agrees",
        path.display()
    );
    // The cases exercise what they are meant to.
    let counted_cut_off = cases
        .iter()
        .flat_map(|c| c["expected"]["counted"].as_array().unwrap().clone())
        .any(|c| c["cutOff"] == true);
    let some_down = cases
        .iter()
        .flat_map(|c| c["expected"]["tallies"].as_array().unwrap().clone())
        .any(|t| t["down"].as_u64().unwrap() > 0);
    assert!(
        counted_cut_off && some_down,
        "the generator lost its coverage"
    );
    // Some migration chose among several quorum-healthy standbys.
    let contested = cases.iter().any(|c| {
        let e = &c["expected"];
        let quorum = e["quorum"].as_u64().unwrap();
        let healthy = e["tallies"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| {
                t["endpointId"].as_u64().unwrap() > 0 && t["healthy"].as_u64().unwrap() >= quorum
            })
            .count();
        e["decisions"][0]["kind"] == "migrate" && healthy >= 3
    });
    assert!(
        contested,
        "no migration chose among several healthy standbys"
    );
    // Every decision the dashboard explains occurs at least once.
    let decisions: Vec<String> = cases
        .iter()
        .flat_map(|c| c["expected"]["decisions"].as_array().unwrap().clone())
        .map(|d| d["reason"].as_str().unwrap_or("migrate").to_string())
        .collect();
    for kind in [
        "migrate",
        "paused",
        "no breach quorum",
        "cooldown",
        "no healthy standby",
        "no primary",
    ] {
        assert!(
            decisions.iter().any(|d| d == kind),
            "no case where the decision is {kind}: {decisions:?}"
        );
    }
}
