//! Keeps the dashboard's TypeScript mirror of the engine (app/src/lib/quorum.ts) and its
//! account decoding (the Codama client) in step with the program. This test builds
//! pseudo-random networks, topologies and ballots as the program stores them (real
//! account bytes; ballot rows recorded through `engine::record`, the function
//! `submit_attestation` calls), asks the engine which rows count, what they say about
//! every endpoint and what it decides per group and per quarantined endpoint, and
//! compares the result with the committed app/test/fixtures/quorum-cases.json; vitest
//! (app/src/lib/conformance.test.ts) decodes the same bytes and must reach the same
//! answers.
//!
//! After a deliberate change to the engine or the account layout:
//!   LIFELINE_BLESS=1 cargo test -p lifeline-tests --test dashboard_quorum
//!
//! (Long: every case of the fixture is spelled out here, one per rule of the engine the
//! dashboard mirrors, so a reader sees what is covered.)

use anchor_lang::prelude::Pubkey;
use anchor_lang::{Discriminator, ZeroCopy};
use base64::Engine as _;
use bytemuck::Zeroable;
use lifeline::constants::MAX_KEEPERS;
use lifeline::engine::{
    collect, decide_migration, decide_readmission, record, tally, Attestation, Refusal, Snapshot,
};
use lifeline::state::{
    text, Ballot, Endpoint, Network, ObservationInput, Policy, PolicyParams, Role, Topology,
    OBS_DIVERGENT, OBS_UNREACHABLE,
};
use serde_json::{json, Value};

const CASES: usize = 48;

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
        self.next() % n.max(1)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
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

/// What an endpoint really is; each keeper measures it with its own figures.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Health {
    Healthy,
    Degraded,
    Down,
}

/// Figures a keeper could measure for an endpoint in `health` under `p` (the verdict the
/// program records is `classify`'s, whatever was intended here).
fn observation(
    rng: &mut Rng,
    p: &Policy,
    id: u32,
    typical_ms: u32,
    health: Health,
    earned: bool,
) -> ObservationInput {
    let mut o = ObservationInput {
        endpoint_id: id,
        // what this keeper measures: the endpoint's typical latency, give or take 20 ms
        latency_ms: (typical_ms + rng.below(40) as u32)
            .saturating_sub(20)
            .max(1),
        slot_lag: rng.below(p.lag_degraded_slots as u64) as u32,
        error_bps: rng.below(p.error_degraded_bps as u64) as u16,
        ..ObservationInput::default()
    };
    let span = |rng: &mut Rng, lo: u64, hi: u64| lo + rng.below(hi.saturating_sub(lo).max(1));
    match health {
        Health::Healthy => {}
        Health::Degraded => match rng.below(3) {
            0 => {
                o.latency_ms =
                    span(rng, p.latency_degraded_ms as u64, p.latency_down_ms as u64) as u32
            }
            1 => {
                o.slot_lag = span(rng, p.lag_degraded_slots as u64, p.lag_down_slots as u64) as u32
            }
            _ => {
                o.error_bps = span(rng, p.error_degraded_bps as u64, p.error_down_bps as u64) as u16
            }
        },
        Health::Down => match rng.below(6) {
            0 => {
                o.flags = OBS_UNREACHABLE;
                o.latency_ms = p.latency_down_ms;
                o.error_bps = 10_000;
            }
            1 => o.error_bps = span(rng, p.error_down_bps as u64, 10_001) as u16,
            2 => o.flags = OBS_DIVERGENT,
            // frozen: the slot stood still while the reference moved
            3 => {
                o.slot_lag = p.stall_slots.max(1) + rng.below(100) as u32;
                o.stalled_slots = o.slot_lag as u16;
            }
            4 => o.slot_lag = p.lag_down_slots + rng.below(200) as u32,
            _ => o.latency_ms = p.latency_down_ms + rng.below(3_000) as u32,
        },
    }
    // A keeper's streak: long enough to vote when `earned`, else anything.
    let windows = if earned { 3 } else { rng.below(3) as u8 };
    o.consecutive_bad = windows;
    o.consecutive_good = windows;
    o
}

/// How often each kind of row that must not count (or must count without its down votes)
/// was generated, so the test can insist the cases still contain them.
#[derive(Default)]
struct Made {
    stranger: usize,
    replaced: usize,
    never: usize,
    silent: usize,
    future: usize,
    stale_reference: usize,
    before_policy: usize,
    older_epoch: usize,
    newer_config: usize,
    past_the_end: usize,
    vacancy_cooldown: usize,
    staleness_bound: usize,
    lonely: usize,
    turn: usize,
}

fn case(rng: &mut Rng, made: &mut Made) -> Value {
    // Now and then a young chain (now < cooldown): "never migrated" must not mean "in cooldown".
    let now = if rng.chance(20) {
        60 + rng.below(80)
    } else {
        10_000 + rng.below(1_000)
    };
    let network_key = key(1, 0);
    // Nearly half of the cases pit several standbys against each other after group 0's
    // primary fails (honest keepers, default quorum), so the choice among them (labels,
    // priority, latency, id) counts, and so does waiting for a better one that is still
    // being voted healthy.
    let contest = rng.chance(45);
    let keepers = if contest {
        3 + rng.below(4) as usize
    } else {
        1 + rng.below(6) as usize
    };
    let honesty = if contest { 100 } else { 80 };
    let staleness = 20 + rng.below(40);
    let params = PolicyParams {
        quorum: if contest {
            0
        } else {
            rng.below(keepers as u64 + 1) as u8
        },
        breach_windows: 1 + rng.below(3) as u8,
        recovery_windows: 1 + rng.below(3) as u8,
        staleness_slots: staleness,
        liveness_slots: staleness + rng.below(200),
        probation_slots: rng.below(60),
        stall_slots: rng.below(4) as u32,
        ..PolicyParams::default()
    };
    let policy: Policy = params.into();
    let mut network: Box<Network> = Box::new(Zeroable::zeroed());
    network.policy = policy;
    network.name = text::to_fixed("conformance");
    // Keeper slots with holes: the voter bit is the slot index, not the order.
    let mut slot = 0usize;
    for i in 0..keepers {
        slot += rng.below(2) as usize;
        network.keepers[slot].keeper = key(2, i);
        network.keepers[slot].region = text::to_fixed(&format!("r{i}"));
        network.keepers[slot].provider = text::to_fixed(["pa", "pb"][i % 2]);
        slot += 1;
    }
    network.keeper_count = keepers as u8;
    network.paused = u8::from(!contest && rng.chance(12));

    let mut topology: Box<Topology> = Box::new(Zeroable::zeroed());
    topology.network = network_key;
    topology.epoch = 10 + rng.below(10);
    let epoch = topology.epoch;
    topology.policy_epoch = epoch - rng.below(6);
    for g in 0..2 {
        topology.group_epochs[g] = epoch - rng.below(4);
        // Group 1 may have no primary: a vacancy waits for the cooldown too.
        if !(contest && g == 0) && rng.chance(50) {
            topology.last_migration_slot[g] =
                now.saturating_sub(rng.below(2 * params.cooldown_slots));
        }
    }
    let endpoints = if contest { 5 } else { 3 } + rng.below(4) as u32;
    let group1_primary = rng.chance(40);
    // The last endpoint's URL changed at the current epoch: rows read before it hold no
    // valid cell for it.
    let just_updated = rng.chance(60);
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
            rng.pick(&[
                Role::Standby,
                Role::Standby,
                Role::Standby,
                Role::Quarantined,
                Role::Quarantined,
                Role::Retired,
            ])
        };
        // Mostly an identity older than the policy; now and then one changed since some
        // keepers read the topology (their cells for it do not count).
        let config_epoch = if id == endpoints - 1 && just_updated {
            epoch
        } else if rng.chance(15) {
            epoch - rng.below(2)
        } else {
            1 + rng.below(topology.policy_epoch)
        };
        topology.endpoints[id as usize] = Endpoint {
            id,
            group,
            role: role as u8,
            kind: rng.below(6) as u8,
            // In a contest mostly equal priorities, so labels and latency decide.
            priority: if contest && rng.chance(75) {
                0
            } else {
                rng.below(3) as u8
            },
            config_epoch,
            ejection_count: rng.below(3) as u16,
            quarantine_until_slot: if role == Role::Quarantined {
                now.saturating_sub(100) + rng.below(200)
            } else {
                0
            },
            url_len: 9,
            url: text::to_fixed(&format!("http://e{id}")),
            region: text::to_fixed(rng.pick(&["eu", "us"])),
            provider: text::to_fixed(rng.pick(&["pa", "pb"])),
            ..Endpoint::default()
        };
    }
    topology.endpoint_count = endpoints as u8;
    topology.next_endpoint_id = endpoints;

    // What each endpoint really is.
    // Each endpoint's typical latency, well apart, so medians differ between endpoints.
    let typical_ms: Vec<u32> = (0..endpoints)
        .map(|_| 30 + 50 * rng.below(8) as u32)
        .collect();
    let truth: Vec<Health> = (0..endpoints)
        .map(|id| {
            let down = match (contest, id) {
                (true, 0) => 100,
                (true, 1..=4) => 0,
                (_, 0) => 75,
                _ => 30,
            };
            if rng.chance(down) {
                Health::Down
            } else if !contest && rng.chance(10) {
                Health::Degraded
            } else {
                Health::Healthy
            }
        })
        .collect();

    // The ballot. Rows are recorded against the topology as it was before some endpoints
    // changed identity (config epochs 0): the engine must then ignore those cells itself.
    let mut before: Box<Topology> = Box::new(*topology);
    for e in before.endpoints.iter_mut() {
        e.config_epoch = 0;
    }
    let mut ballot: Box<Ballot> = Box::new(Zeroable::zeroed());
    ballot.network = network_key;
    // Most rows are a live keeper's fresh attestation at the current epoch; the rest
    // carry one disturbance each (rarer in clean cases, where decisions should happen).
    let clean = contest || rng.chance(35);
    let disturbed = if clean { 12 } else { 65 };
    for i in 0..MAX_KEEPERS {
        let member = network.keepers[i].keeper;
        let mut author = member;
        let mut submitted = now.saturating_sub(rng.below(staleness / 2));
        let mut topology_epoch = epoch;
        let mut reference = None;
        let mut lonely = false;
        if member == Pubkey::default() {
            // An empty slot may still hold the row of a keeper removed from the set.
            if !rng.chance(12) {
                continue;
            }
            made.stranger += 1;
            author = key(3, i);
        } else if rng.chance(disturbed) {
            // Kinds in turn, so each occurs about equally often whatever the seed.
            made.turn += 1;
            match made.turn % 10 {
                0 => {
                    // The slot was given to another keeper that has not attested yet: the
                    // row is still the previous keeper's.
                    made.replaced += 1;
                    author = key(3, i);
                }
                1 => {
                    // Added but never attested.
                    made.never += 1;
                    ballot.reports[i].keeper = member;
                    continue;
                }
                2 => {
                    made.silent += 1;
                    submitted = now.saturating_sub(params.liveness_slots + 1 + rng.below(100));
                }
                3 => {
                    made.future += 1;
                    submitted = now + 1 + rng.below(5);
                }
                // Live, but its reference too old for its down votes to count.
                4 => submitted = now.saturating_sub(params.liveness_slots),
                5 => {
                    submitted = now.saturating_sub(
                        staleness + rng.below(params.liveness_slots - staleness + 1),
                    )
                }
                6 if topology.policy_epoch > 1 => {
                    made.before_policy += 1;
                    topology_epoch = topology.policy_epoch - 1;
                }
                7 => {
                    made.older_epoch += 1;
                    topology_epoch = topology.policy_epoch.max(epoch - 1 - rng.below(2));
                }
                // A reference exactly `staleness_slots` old: still fresh.
                8 => {
                    made.staleness_bound += 1;
                    reference = Some(now.saturating_sub(staleness));
                }
                // A keeper that observed one endpoint and could not reach it: not cut off
                // (that takes two).
                _ => {
                    made.lonely += 1;
                    lonely = true;
                }
            }
        }
        if submitted == 0 {
            continue; // a young chain: nothing landed that long ago
        }
        // The program accepts a reference at most `staleness_slots` before landing.
        let reference =
            reference.unwrap_or_else(|| submitted.saturating_sub(rng.below(staleness.min(12) + 1)));
        let counts = author == member
            && submitted <= now
            && now - submitted <= params.liveness_slots
            && topology_epoch >= topology.policy_epoch;
        if now.saturating_sub(reference) > staleness && submitted <= now {
            made.stale_reference += 1;
        }
        // A keeper that reaches nothing (cut off itself), an honest one, a noisy one.
        let cut_off = !contest && i % 5 == 3 && rng.chance(70);
        let mut observations = Vec::new();
        let only = rng.below(endpoints as u64) as u32;
        for id in 0..endpoints {
            if lonely && id != only {
                continue;
            }
            if rng.chance(if clean { 3 } else { 10 }) {
                continue; // this keeper did not observe the endpoint
            }
            let health = if cut_off || lonely {
                Health::Down
            } else if rng.chance(honesty) {
                truth[id as usize]
            } else {
                rng.pick(&[Health::Healthy, Health::Degraded, Health::Down])
            };
            // In a contest the standbys are healthy but some keepers have not yet seen
            // them healthy for `recovery_windows` (pending healthy votes).
            let earned = if contest && (1..5).contains(&id) {
                rng.chance(70)
            } else {
                rng.chance(honesty)
            };
            let mut o = observation(rng, &policy, id, typical_ms[id as usize], health, earned);
            if cut_off || lonely {
                o.flags = OBS_UNREACHABLE;
            }
            observations.push(o);
        }
        let row = &mut ballot.reports[i];
        record(
            &policy,
            &before,
            row,
            author,
            &Attestation {
                seq: 1 + rng.below(50),
                topology_epoch,
                reference_slot: reference,
                observations: &observations,
            },
            submitted,
        );
        // How long each verdict had held when the row landed (the program counts it over
        // consecutive landings; one landing is enough here).
        for (j, v) in row.votes[..endpoints as usize].iter_mut().enumerate() {
            if v.is_observed() {
                let boundary = (submitted + params.probation_slots).checked_sub(now);
                v.verdict_age_slots = match boundary {
                    // held exactly `probation_slots` by now: probation just complete
                    Some(age) if rng.chance(15) => age as u32,
                    _ => rng.below(200) as u32,
                };
                if counts && topology.endpoints[j].config_epoch > topology_epoch {
                    made.newer_config += 1;
                }
            }
        }
        // A column past the last endpoint holding a cell (an endpoint removed): ignored.
        if rng.chance(8) {
            row.votes[endpoints as usize] = row.votes[0];
            row.votes[endpoints as usize].flags |= OBS_UNREACHABLE;
            made.past_the_end += 1;
        }
    }

    let snap = Snapshot {
        network: &network,
        topology: &topology,
        ballot: &ballot,
        now,
    };
    let electorate = collect(&snap);
    let tallies: Vec<Value> = (0..endpoints)
        .map(|id| {
            let t = tally(&snap, &electorate, id);
            json!({
                "endpointId": id,
                "observed": t.observed,
                "down": t.down,
                "downVoters": t.down_voters,
                "healthy": t.healthy,
                "healthyVoters": t.healthy_voters,
                "pendingHealthy": t.pending_healthy,
                "probation": t.probation,
                "probationVoters": t.probation_voters,
                "medianLatencyMs": t.median_latency_ms,
                "medianSlotLag": t.median_slot_lag,
                "medianErrorBps": t.median_error_bps,
                "reason": t.reason as u8,
                "mayBecomeHealthy": t.may_become_healthy(keepers, electorate.quorum),
            })
        })
        .collect();
    let refusal = |r: Refusal| -> Value {
        let (name, until, endpoint) = match r {
            Refusal::Paused => ("paused", None, None),
            Refusal::NoBreachQuorum => ("no breach quorum", None, None),
            Refusal::Cooldown { until_slot } => ("cooldown", Some(until_slot), None),
            Refusal::NoHealthyStandby => ("no healthy standby", None, None),
            Refusal::NoPrimary => ("no primary", None, None),
            Refusal::StandbyUndecided { endpoint_id } => {
                ("standby undecided", None, Some(endpoint_id))
            }
            Refusal::QuarantineActive { until_slot } => {
                ("quarantine active", Some(until_slot), None)
            }
            Refusal::ProbationIncomplete => ("probation incomplete", None, None),
            other => panic!("unexpected refusal {other:?}"),
        };
        json!({
            "kind": "refused",
            "reason": name,
            "untilSlot": until.map(|u| u.to_string()),
            "endpointId": endpoint,
        })
    };
    let decisions: Vec<Value> = (0..2u8)
        .map(|group| {
            let mut d = match decide_migration(&snap, &electorate, group) {
                Ok(plan) => json!({
                    "kind": "migrate",
                    "fromId": plan.from_id,
                    "toId": plan.to_id,
                    "rule": plan.rule as u8,
                    "voters": plan.voters,
                    "quarantineUntilSlot": plan.quarantine_until_slot.to_string(),
                }),
                Err(r) => {
                    if matches!(r, Refusal::Cooldown { .. }) && topology.primary_of(group).is_none()
                    {
                        made.vacancy_cooldown += 1;
                    }
                    refusal(r)
                }
            };
            d["group"] = json!(group);
            d
        })
        .collect();
    let readmissions: Vec<Value> = topology
        .endpoints()
        .iter()
        .filter(|e| e.role == Role::Quarantined as u8)
        .map(|e| {
            let mut d = match decide_readmission(&snap, &electorate, e.id) {
                Ok(_) => json!({ "kind": "readmit" }),
                Err(r) => refusal(r),
            };
            d["endpointId"] = json!(e.id);
            d
        })
        .collect();
    json!({
        "now": now.to_string(),
        "network": { "address": network_key.to_string(), "account": account_bytes(network.as_ref()) },
        "topology": { "address": key(4, 0).to_string(), "account": account_bytes(topology.as_ref()) },
        "ballot": { "address": key(5, 0).to_string(), "account": account_bytes(ballot.as_ref()) },
        "expected": {
            "quorum": electorate.quorum,
            "counted": electorate.counted.iter().map(|c| json!({
                "keeperIndex": c.keeper_index,
                "fresh": c.fresh,
                "cutOff": c.cut_off,
            })).collect::<Vec<_>>(),
            "tallies": tallies,
            "decisions": decisions,
            "readmissions": readmissions,
        },
    })
}

fn all<'a>(cases: &'a [Value], list: &'a str) -> impl Iterator<Item = &'a Value> {
    cases
        .iter()
        .flat_map(move |c| c["expected"][list].as_array().unwrap().iter())
}

#[test]
fn dashboard_quorum_fixture_matches_the_engine() {
    let mut rng = Rng(0x5eed_1fe1_13e5);
    let mut made = Made::default();
    let cases: Vec<Value> = (0..CASES).map(|_| case(&mut rng, &mut made)).collect();
    let fresh = serde_json::to_string_pretty(&json!({
        "programId": lifeline::ID.to_string(),
        "cases": cases,
    }))
    .unwrap()
        + "\n";
    let path = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(
            || std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")),
            std::path::PathBuf::from,
        )
        .join("../app/test/fixtures/quorum-cases.json");
    if std::env::var_os("LIFELINE_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &fresh).unwrap();
    } else {
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == fresh,
            "{} is stale: the engine or the account layout changed. Regenerate it with \
             `LIFELINE_BLESS=1 cargo test -p lifeline-tests --test dashboard_quorum`, then run \
             `npm test` in app/ to see whether the dashboard still agrees",
            path.display()
        );
    }

    // The cases exercise what they are meant to: every kind of row that must not count…
    for (what, n) in [
        ("a row of a keeper not in the set", made.stranger),
        ("a slot whose row is another keeper's", made.replaced),
        ("a keeper that never attested", made.never),
        ("a silent keeper (older than liveness)", made.silent),
        ("a row landed after now", made.future),
        ("a row read before the policy changed", made.before_policy),
        ("a row read at an older epoch", made.older_epoch),
        (
            "a cell of an endpoint changed since the row",
            made.newer_config,
        ),
        ("a cell past the last endpoint", made.past_the_end),
        (
            "a reference exactly at the staleness bound",
            made.staleness_bound,
        ),
        (
            "a keeper that observed one endpoint, unreachable",
            made.lonely,
        ),
        ("a live row with a stale reference", made.stale_reference),
    ] {
        assert!(n >= 3, "the generator lost its coverage: only {n} × {what}");
    }
    // …counted rows of every kind, and tallies that need every rule.
    let counted: Vec<&Value> = all(&cases, "counted").collect();
    assert!(
        counted.iter().any(|c| c["cutOff"] == true),
        "no cut-off keeper"
    );
    assert!(
        counted
            .iter()
            .any(|c| c["fresh"] == false && c["cutOff"] == false),
        "no counted row whose down votes are too old"
    );
    let tallies: Vec<&Value> = all(&cases, "tallies").collect();
    for field in ["down", "healthy", "pendingHealthy", "probation"] {
        assert!(
            tallies.iter().any(|t| t[field].as_u64().unwrap() > 0),
            "no tally with {field}"
        );
    }
    assert!(
        tallies.iter().any(|t| t["mayBecomeHealthy"] == true)
            && tallies.iter().any(|t| t["mayBecomeHealthy"] == false),
        "may_become_healthy never varies"
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
                (1..5).contains(&t["endpointId"].as_u64().unwrap())
                    && t["healthy"].as_u64().unwrap() >= quorum
            })
            .count();
        e["decisions"][0]["kind"] == "migrate" && healthy >= 2
    });
    assert!(
        contested,
        "no migration chose among several healthy standbys"
    );
    // Every decision the dashboard explains occurs at least once.
    let name = |d: &Value| d["reason"].as_str().unwrap_or("migrate").to_string();
    let decisions: Vec<String> = all(&cases, "decisions").map(name).collect();
    for kind in [
        "migrate",
        "paused",
        "no breach quorum",
        "cooldown",
        "no healthy standby",
        "no primary",
        "standby undecided",
    ] {
        assert!(
            decisions.iter().any(|d| d == kind),
            "no case where the decision is {kind}: {decisions:?}"
        );
    }
    // A vacancy both filled and held by the cooldown.
    let vacancies: Vec<&Value> = all(&cases, "decisions")
        .filter(|d| d["kind"] == "migrate" && d["fromId"].is_null())
        .collect();
    assert!(!vacancies.is_empty(), "no vacancy filled");
    assert!(made.vacancy_cooldown > 0, "no vacancy held by the cooldown");
    let readmissions: Vec<String> = all(&cases, "readmissions")
        .map(|d| d["reason"].as_str().unwrap_or("readmit").to_string())
        .collect();
    for kind in [
        "readmit",
        "quarantine active",
        "probation incomplete",
        "paused",
    ] {
        assert!(
            readmissions.iter().any(|d| d == kind),
            "no quarantined endpoint where the decision is {kind}: {readmissions:?}"
        );
    }
}
