//! Helpers shared by instruction handlers: input checks with named errors, PDA creation,
//! epochs, voters and event emission.
use anchor_lang::prelude::*;

use crate::ensure;
use anchor_lang::solana_program::instruction::{AccountMeta, Instruction};
use anchor_lang::solana_program::program::invoke_signed;
use anchor_lang::system_program;
use anchor_lang::{Discriminator, Event, ZeroCopy};

use crate::constants::*;
use crate::errors::LifelineError;
use crate::events::EventHeader;
use crate::state::{text, Network, Topology};

pub fn check_name(name: &str) -> Result<()> {
    ensure!(text::valid_name(name), LifelineError::InvalidName);
    Ok(())
}

pub fn check_label(label: &str) -> Result<()> {
    ensure!(text::valid_label(label), LifelineError::InvalidLabel);
    Ok(())
}

pub fn check_url(url: &str) -> Result<()> {
    ensure!(text::valid_url(url), LifelineError::InvalidUrl);
    Ok(())
}

pub fn check_group(group: u8) -> Result<()> {
    ensure!((group as usize) < MAX_GROUPS, LifelineError::InvalidGroup);
    Ok(())
}

pub fn header(network: Pubkey, epoch: u64) -> Result<EventHeader> {
    Ok(EventHeader {
        network,
        slot: Clock::get()?.slot,
        epoch,
    })
}

/// Creates a program-owned PDA of `space` bytes. Works even if a stranger pre-funded the
/// address: the system program's CreateAccount refuses an account that holds lamports
/// (and agave 3.1 has no CreateAccountAllowPrefund), so a pre-funded address is topped up,
/// allocated and assigned instead. Refuses an address that is already in use.
pub fn create_pda<'info>(
    payer: &AccountInfo<'info>,
    target: &AccountInfo<'info>,
    space: usize,
    seeds: &[&[u8]],
) -> Result<()> {
    ensure!(
        *target.owner == system_program::ID && target.data_is_empty(),
        LifelineError::AlreadyInitialized
    );
    let rent = Rent::get()?.minimum_balance(space);
    let signer: &[&[&[u8]]] = &[seeds];
    let current = target.lamports();
    if current == 0 {
        return system_program::create_account(
            CpiContext::new_with_signer(
                system_program::ID,
                system_program::CreateAccount {
                    from: payer.clone(),
                    to: target.clone(),
                },
                signer,
            ),
            rent,
            space as u64,
            &crate::ID,
        );
    }
    if current < rent {
        system_program::transfer(
            CpiContext::new(
                system_program::ID,
                system_program::Transfer {
                    from: payer.clone(),
                    to: target.clone(),
                },
            ),
            rent - current,
        )?;
    }
    system_program::allocate(
        CpiContext::new_with_signer(
            system_program::ID,
            system_program::Allocate {
                account_to_allocate: target.clone(),
            },
            signer,
        ),
        space as u64,
    )?;
    system_program::assign(
        CpiContext::new_with_signer(
            system_program::ID,
            system_program::Assign {
                account_to_assign: target.clone(),
            },
            signer,
        ),
        &crate::ID,
    )
}

/// Writes the discriminator of a freshly created zero_copy account and lets `init` fill it.
pub fn init_zero_copy<T: ZeroCopy + Owner + Discriminator>(
    info: &AccountInfo,
    init: impl FnOnce(&mut T) -> Result<()>,
) -> Result<()> {
    let mut data = info.try_borrow_mut_data()?;
    let disc = T::DISCRIMINATOR.len();
    let end = disc + core::mem::size_of::<T>();
    ensure!(data.len() >= end, LifelineError::AlreadyInitialized);
    data[..disc].copy_from_slice(T::DISCRIMINATOR);
    init(bytemuck::from_bytes_mut(&mut data[disc..end]))
}

/// Public keys of the keepers whose bit is set in `bitmap`.
pub fn voters(network: &Network, bitmap: u16) -> Vec<Pubkey> {
    (0..MAX_KEEPERS)
        .filter(|i| bitmap & (1u16 << i) != 0)
        .map(|i| network.keepers[i].keeper)
        .collect()
}

/// Permissionless and manual decisions name the group epoch they were made at: of two
/// racing callers the loser gets `EpochMismatch`, and a change to another group never
/// invalidates the call.
pub fn require_group_epoch(topology: &Topology, group: u8, expected: u64) -> Result<()> {
    ensure!(
        topology.group_epoch(group) == expected,
        LifelineError::EpochMismatch
    );
    Ok(())
}

/// Emits `event` through a self-CPI signed by the event authority: what `emit_cpi!` does,
/// but in one non-inlined function instead of expanded into every handler's stack frame.
#[inline(never)]
pub fn emit_event<E: Event>(event_authority: &AccountInfo, event: &E) -> Result<()> {
    let data: Vec<u8> = anchor_lang::event::EVENT_IX_TAG_LE
        .iter()
        .copied()
        .chain(event.data())
        .collect();
    let ix = Instruction::new_with_bytes(
        crate::ID,
        &data,
        vec![AccountMeta::new_readonly(*event_authority.key, true)],
    );
    invoke_signed(
        &ix,
        core::slice::from_ref(event_authority),
        &[&[b"__event_authority", &[crate::EVENT_AUTHORITY_AND_BUMP.1]]],
    )
    .map_err(Into::into)
}
