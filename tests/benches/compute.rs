//! Compute units per instruction at 16 keepers × 32 endpoints on the program's SBF build
//! (solana-program-test meters it as a validator does):
//!   ../shared/sbf/build-lifeline . SCRATCH target/sbf     # or anchor build
//!   cargo bench -p lifeline-tests --bench compute
use lifeline_tests::compute::{scenarios, Runtime};
use lifeline_tests::validator::program_so;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let Some(so) = program_so() else {
        eprintln!("compute bench: no SBF build of the program: run `anchor build`, or here ../shared/sbf/build-lifeline . SCRATCH target/sbf (scripts/validator-tier)");
        std::process::exit(2);
    };
    let size = std::fs::metadata(&so).map_or(0, |m| m.len());
    println!(
        "compute units, 16 keepers x 32 endpoints, {} ({size} bytes)",
        so.display()
    );
    println!(
        "  {:<56} {:>9} {:>9} {:>7}",
        "transaction", "CU", "asks", "margin"
    );
    for m in scenarios(Runtime::Sbf).await {
        println!(
            "  {:<56} {:>9} {:>9} {:>6.2}x",
            m.name,
            m.units,
            m.budget,
            m.budget as f64 / m.units.max(1) as f64
        );
    }
}
