//! Compute units at the limits (16 keepers × 32 endpoints) on the program's SBF build:
//! every worst case fits what the keeper asks for with 1.5× to spare, and the SBF run
//! leaves exactly what the native run leaves (accounts, results, events). Without an SBF
//! build it says how to get one, and passes.
use lifeline_client::budget::MARGIN_PERCENT;
use lifeline_tests::compute::{scenarios, Runtime};
use lifeline_tests::validator::{program_so, say_skipped};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_decision_fits_its_budget_with_room_on_sbf_and_matches_native() {
    if program_so().is_none() {
        say_skipped(
            "every_decision_fits_its_budget_with_room_on_sbf_and_matches_native",
            "no SBF build of the program (anchor build, or ../shared/sbf/build-lifeline . SCRATCH target/sbf; scripts/validator-tier does it)",
        );
        return;
    }
    let sbf = scenarios(Runtime::Sbf).await;
    let native = scenarios(Runtime::Native).await;
    for s in &sbf {
        eprintln!("{:<56} {:>8} CU (asks {})", s.name, s.units, s.budget);
    }
    for (s, n) in sbf.iter().zip(&native) {
        assert_eq!(s.outcome, n.outcome, "{}: SBF and native differ", s.name);
        assert!(
            s.units * MARGIN_PERCENT / 100 <= s.budget as u64,
            "{}: {} CU × 1.5 exceeds the {} the keeper asks",
            s.name,
            s.units,
            s.budget
        );
    }
    assert_eq!(sbf.len(), native.len());
}
