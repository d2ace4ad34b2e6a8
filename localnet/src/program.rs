//! The Lifeline program as a native builtin: the one place that adapts Anchor's entry
//! point to the runtime (used by the localnet bank and by solana-program-test).
use anchor_lang::prelude::{AccountInfo, Pubkey};
use anchor_lang::solana_program::entrypoint::ProgramResult;
use solana_program_runtime::invoke_context::BuiltinFunctionWithContext;

/// Anchor's generated `entry` ties every argument to one `'info` lifetime, which does not
/// coerce to the runtime's `ProcessInstruction` (independent lifetimes). All references
/// live for the whole call, so unifying them is sound.
pub fn process_instruction<'a, 'b, 'c, 'd>(
    program_id: &'a Pubkey,
    accounts: &'b [AccountInfo<'c>],
    data: &'d [u8],
) -> ProgramResult {
    unsafe {
        lifeline::entry(
            std::mem::transmute::<&'a Pubkey, &'c Pubkey>(program_id),
            std::mem::transmute::<&'b [AccountInfo<'c>], &'c [AccountInfo<'c>]>(accounts),
            std::mem::transmute::<&'d [u8], &'c [u8]>(data),
        )
    }
}

/// (program id, name, builtin entry) for `Bank::add_builtin`.
pub fn builtin() -> (Pubkey, &'static str, BuiltinFunctionWithContext) {
    let entry: Option<BuiltinFunctionWithContext> =
        solana_program_test::processor!(process_instruction);
    (
        lifeline::ID,
        "lifeline",
        entry.expect("processor! yields a builtin"),
    )
}

/// A ProgramTest with the Lifeline program registered natively (for `tests/`). The choice
/// is made before the program is added (ProgramTest picks native or SBF when it is), so
/// a BPF_OUT_DIR in the environment cannot swap in an SBF build.
pub fn program_test() -> solana_program_test::ProgramTest {
    let mut pt = solana_program_test::ProgramTest::default();
    pt.prefer_bpf(false);
    pt.add_program(
        "lifeline",
        lifeline::ID,
        solana_program_test::processor!(process_instruction),
    );
    pt
}

/// Native programs reach CPI (`sol_invoke_signed`), sysvars and return data through
/// solana-program-test's syscall stubs, which it installs only when a ProgramTest bank
/// actually starts. Start (and drop) one once; ~80 ms.
pub fn install_syscall_stubs() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Own thread and runtime, so this also works when called inside a tokio runtime.
        std::thread::spawn(|| {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("tokio runtime");
            rt.block_on(async {
                let mut pt = solana_program_test::ProgramTest::default();
                pt.prefer_bpf(false);
                drop(pt.start().await);
            });
        })
        .join()
        .expect("syscall stub installation");
    });
}
