//! The planner against hand-built chain states.
use std::str::FromStr;

use bytemuck::Zeroable;
use lifeline::state::text;

use super::*;
use crate::pda;

const K1: &str = "5fFtQJk9m4BH217PNfKfcQEhMHBPS7GVgDtvBp1zH6eJ";

fn k1() -> Pubkey {
    Pubkey::from_str(K1).unwrap()
}

fn spec() -> Spec {
    Spec::parse(&format!(
        r#"
        [network]
        name = "dex"
        [policy]
        cooldown_slots = 300
        [[keeper]]
        pubkey = "{K1}"
        region = "eu"
        provider = "aws"
        [[endpoint]]
        url = "https://a.example"
        role = "primary"
        [[endpoint]]
        url = "https://b.example"
        priority = 2
        "#
    ))
    .unwrap()
}

/// The chain after applying `spec` to nothing, signed by `me`.
fn applied(spec: &Spec, me: &Pubkey) -> (Box<Network>, Box<Topology>) {
    let mut n: Box<Network> = Box::new(Network::zeroed());
    n.authority = *me;
    n.policy = spec.policy().unwrap().into();
    for (i, k) in spec.keepers.iter().enumerate() {
        n.keepers[i].keeper = k.pubkey;
        n.keepers[i].region = text::to_fixed(&k.region);
        n.keepers[i].provider = text::to_fixed(&k.provider);
    }
    n.keeper_count = spec.keepers.len() as u8;
    let mut t: Box<Topology> = Box::new(Topology::zeroed());
    t.epoch = 4;
    for (i, e) in spec.endpoints.iter().enumerate() {
        let x = &mut t.endpoints[i];
        x.id = i as u32;
        x.group = e.group;
        x.kind = e.kind as u8;
        x.url = text::to_fixed(&e.url);
        x.url_len = e.url.len() as u8;
        x.role = Role::from(e.role) as u8;
        x.priority = e.priority;
        x.region = text::to_fixed(&e.region);
        x.provider = text::to_fixed(&e.provider);
    }
    t.endpoint_count = spec.endpoints.len() as u8;
    t.next_endpoint_id = spec.endpoints.len() as u32;
    (n, t)
}

fn describe(plan: &Plan) -> Vec<String> {
    plan.steps.iter().map(Step::describe).collect()
}

fn plan_on(spec: &Spec, me: &Pubkey, n: &Network, t: &Topology) -> Result<Plan, PlanError> {
    plan(
        spec,
        me,
        Some(Current {
            network: n,
            topology: t,
        }),
    )
}

fn role_at(t: &mut Topology, i: usize, role: Role) {
    t.endpoints[i].role = role as u8;
}

#[test]
fn a_new_network_is_created_with_everything() {
    let me = Pubkey::new_unique();
    let p = plan(&spec(), &me, None).unwrap();
    assert_eq!(p.network, pda::network(&me, "dex").0);
    assert_eq!(
        describe(&p),
        vec![
            "create network \"dex\"".to_string(),
            format!("add keeper {K1} (eu/aws)"),
            "add rpc endpoint https://a.example to group 0 as primary".to_string(),
            "add rpc endpoint https://b.example to group 0 as standby".to_string(),
        ]
    );
    assert!(
        p.notes
            .iter()
            .any(|n| n.contains("cannot tolerate a single faulty keeper")),
        "one keeper: {:?}",
        p.notes
    );
}

#[test]
fn an_applied_spec_plans_nothing() {
    let (s, me) = (spec(), Pubkey::new_unique());
    let (n, t) = applied(&s, &me);
    let p = plan_on(&s, &me, &n, &t).unwrap();
    assert!(p.steps.is_empty(), "{:?}", describe(&p));
}

#[test]
fn every_change_names_its_fields_old_and_new() {
    let (s, me) = (spec(), Pubkey::new_unique());
    let (n, t) = applied(&s, &me);
    let mut changed = s.clone();
    changed.policy.insert("cooldown_slots".into(), 600);
    changed.policy.insert("stall_slots".into(), 3);
    changed.endpoints[1].priority = 1;
    changed.endpoints[1].region = "us".into();
    changed.keepers[0].provider = "gcp".into();
    let p = plan_on(&changed, &me, &n, &t).unwrap();
    assert_eq!(
        describe(&p),
        vec![
            format!("update keeper {K1}: provider aws → gcp"),
            "update policy: cooldown_slots 300 → 600, stall_slots 2 → 3".to_string(),
            "update endpoint 1 (https://b.example): region (none) → us, priority 2 → 1".to_string(),
        ]
    );
}

#[test]
fn apply_never_undoes_a_failover_and_says_so() {
    let (s, me) = (spec(), Pubkey::new_unique());
    let (n, mut t) = applied(&s, &me);
    // the chain failed group 0 over: a is quarantined, b serves
    role_at(&mut t, 0, Role::Quarantined);
    role_at(&mut t, 1, Role::Primary);
    let p = plan_on(&s, &me, &n, &t).unwrap();
    assert!(p.steps.is_empty(), "{:?}", describe(&p));
    assert!(
        p.notes
            .iter()
            .any(|n| n.starts_with("drift: group 0 is served by https://b.example")),
        "{:?}",
        p.notes
    );
    // a recovered and is a standby again: still no fail-back
    role_at(&mut t, 0, Role::Standby);
    let p = plan_on(&s, &me, &n, &t).unwrap();
    assert!(p.steps.is_empty(), "{:?}", describe(&p));
    assert!(
        p.notes[0].contains("lifeline failover --group 0 --to 0"),
        "{:?}",
        p.notes
    );
}

#[test]
fn removing_the_serving_primary_promotes_the_declared_successor_first() {
    let (s, me) = (spec(), Pubkey::new_unique());
    let (n, t) = applied(&s, &me);
    let mut without_a = s.clone();
    without_a.endpoints.remove(0);
    // no successor declared: refused in the plan, with the reason
    let e = plan_on(&without_a, &me, &n, &t).unwrap_err();
    assert!(matches!(e, PlanError::NoSuccessor { group: 0, .. }), "{e}");
    assert!(
        e.to_string().contains("https://a.example serves group 0"),
        "{e}"
    );
    // the file names b as the new primary: promote, then remove
    without_a.endpoints[0].role = SpecRole::Primary;
    let p = plan_on(&without_a, &me, &n, &t).unwrap();
    assert_eq!(
        describe(&p),
        vec![
            "make https://b.example the primary of group 0 (manual failover: the file removes https://a.example)".to_string(),
            "remove endpoint 0 (https://a.example)".to_string(),
        ]
    );
    // retiring it works the same way
    let mut retire = s.clone();
    retire.endpoints[0].role = SpecRole::Retired;
    retire.endpoints[1].role = SpecRole::Primary;
    let p = plan_on(&retire, &me, &n, &t).unwrap();
    assert_eq!(
        describe(&p),
        vec![
            "make https://b.example the primary of group 0 (manual failover: the file retires https://a.example)".to_string(),
            "update endpoint 0 (https://a.example): role primary → retired".to_string(),
        ]
    );
}

#[test]
fn a_group_removed_whole_loses_its_standbys_then_its_primary() {
    let (s, me) = (spec(), Pubkey::new_unique());
    let (n, t) = applied(&s, &me);
    let mut none = s.clone();
    none.endpoints.clear();
    let p = plan_on(&none, &me, &n, &t).unwrap();
    assert_eq!(
        describe(&p),
        vec![
            "remove endpoint 1 (https://b.example)".to_string(),
            "remove endpoint 0 (https://a.example)".to_string(),
        ]
    );
}

#[test]
fn a_guardian_missing_from_the_file_is_removed_out_loud() {
    let (s, me) = (spec(), Pubkey::new_unique());
    let (mut n, t) = applied(&s, &me);
    let g = Pubkey::new_unique();
    n.guardian = g;
    let p = plan_on(&s, &me, &n, &t).unwrap();
    assert_eq!(describe(&p).len(), 1);
    assert!(describe(&p)[0].starts_with(&format!("remove guardian {g} (the file names none")));
}

#[test]
fn only_the_authority_plans_and_a_file_can_name_the_network() {
    let (mut s, me) = (spec(), Pubkey::new_unique());
    let (mut n, t) = applied(&s, &me);
    // the authority moved to `heir`: the derived address would be another network
    let heir = Pubkey::new_unique();
    n.authority = heir;
    let e = plan_on(&s, &me, &n, &t).unwrap_err();
    assert!(matches!(e, PlanError::NotAuthority { .. }), "{e}");
    s.network.creator = Some(me);
    let p = plan_on(&s, &heir, &n, &t).unwrap();
    assert_eq!(
        p.network,
        pda::network(&me, "dex").0,
        "the creator's network"
    );
    assert!(p.steps.is_empty());
    s.network.creator = None;
    let address = Pubkey::new_unique();
    s.network.address = Some(address);
    assert_eq!(plan_on(&s, &heir, &n, &t).unwrap().network, address);
}

#[test]
fn a_quorum_the_remaining_keepers_cannot_reach_is_refused() {
    let (s, me) = (spec(), Pubkey::new_unique());
    let (n, t) = applied(&s, &me);
    let mut q = s.clone();
    q.policy.insert("quorum".into(), 2);
    assert!(matches!(
        plan_on(&q, &me, &n, &t),
        Err(PlanError::QuorumUnreachable {
            keepers: 1,
            quorum: 2
        })
    ));
}

#[test]
fn the_order_is_one_the_program_accepts() {
    // quorum up with keepers added: keepers first; endpoints that do not serve go before
    // new ones arrive (so a full topology can swap endpoints); keepers removed last
    let (s, me) = (spec(), Pubkey::new_unique());
    let (n, t) = applied(&s, &me);
    let mut c = s.clone();
    let k2 = Pubkey::new_unique();
    c.keepers.push(KeeperSpec {
        pubkey: k2,
        region: "us".into(),
        provider: "gcp".into(),
    });
    c.policy.insert("quorum".into(), 2);
    c.endpoints.pop();
    c.endpoints.push(EndpointSpec {
        group: 0,
        kind: lifeline::state::EndpointKind::Rpc,
        role: SpecRole::Standby,
        url: "https://c.example".into(),
        region: String::new(),
        provider: String::new(),
        priority: 0,
    });
    let p = plan_on(&c, &me, &n, &t).unwrap();
    let d = describe(&p);
    assert_eq!(d[0], format!("add keeper {k2} (us/gcp)"));
    assert!(d[1].starts_with("update policy: quorum 0 → 2"), "{d:?}");
    assert_eq!(d[2], "remove endpoint 1 (https://b.example)");
    assert_eq!(
        d[3],
        "add rpc endpoint https://c.example to group 0 as standby"
    );
    let _ = k1();
}
