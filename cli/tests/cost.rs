//! `lifeline cost`: its figures follow its inputs, and the operator guide holds exactly
//! what it prints for the defaults (LIFELINE_BLESS=1 rewrites the guide's copy).
mod common;

use common::*;

const BEGIN: &str = "<!-- lifeline cost: begin -->\n";
const END: &str = "<!-- lifeline cost: end -->";

#[test]
fn the_operator_guide_holds_what_lifeline_cost_prints() {
    let printed = ok(&["cost"]);
    let path = repo("docs/operator-guide.md");
    let guide = std::fs::read_to_string(&path).unwrap();
    let start = guide.find(BEGIN).expect("the guide marks the cost table") + BEGIN.len();
    let end = guide
        .find(END)
        .expect("the guide marks the cost table's end");
    let held = &guide[start..end];
    if std::env::var_os("LIFELINE_BLESS").is_some() {
        let updated = format!("{}{printed}{}", &guide[..start], &guide[end..]);
        std::fs::write(&path, updated).unwrap();
        return;
    }
    assert_eq!(
        held, printed,
        "docs/operator-guide.md is out of date: LIFELINE_BLESS=1 cargo test -p lifeline-cli --test cost"
    );
}

#[test]
fn every_input_moves_the_figures() {
    let default = ok(&["cost"]);
    assert!(default.contains("| 4 | 103680 |"), "{default}");
    assert!(default.contains("| 16 | 414720 |"), "{default}");
    let five = ok(&["cost", "--keepers", "5"]);
    assert!(
        five.contains("| 5 | 129600 |") && !five.contains("| 4 |"),
        "{five}"
    );
    let no_priority = ok(&["cost", "--fee-cap", "0"]);
    assert!(
        no_priority.contains("| 4 | 103680 | 0.5184 SOL | 0.5184 SOL |"),
        "{no_priority}"
    );
    let small = ok(&["cost", "--endpoints", "2"]);
    let bytes = |out: &str| -> usize {
        let at = out.find(" bytes for").unwrap();
        out[..at].rsplit(' ').next().unwrap().parse().unwrap()
    };
    assert!(bytes(&small) < bytes(&default), "{small}");
    let dir = Scratch::new("cost");
    let file = dir.file(
        "slow.toml",
        "[network]\nname = \"x\"\n[policy]\nliveness_slots = 1500\n",
    );
    let slower = ok(&["cost", "-f", file.to_str().unwrap()]);
    assert!(
        slower.contains("| 4 | 51840 |"),
        "twice the liveness window, half the attestations: {slower}"
    );
    for bad in [
        vec!["cost", "--keepers", "0"],
        vec!["cost", "--keepers", "17"],
        vec!["cost", "--endpoints", "33"],
        vec!["cost", "-f", "/nonexistent.toml"],
    ] {
        fails(2, &bad);
    }
}
