//! Decoding of Lifeline accounts from raw account data (as fetched over RPC).
use anchor_lang::{Discriminator, ZeroCopy};
use lifeline::state::{Ballot, Network, Topology};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    TooShort { expected: usize, got: usize },
    WrongDiscriminator,
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::TooShort { expected, got } => {
                write!(
                    f,
                    "account data too short: {got} bytes, expected {expected}"
                )
            }
            Self::WrongDiscriminator => write!(f, "account is not of the expected type"),
        }
    }
}

impl std::error::Error for DecodeError {}

/// Copies a zero_copy account out of raw data (owned, aligned, independent of the buffer).
pub fn decode<T: ZeroCopy + Discriminator>(data: &[u8]) -> Result<Box<T>, DecodeError> {
    let disc = T::DISCRIMINATOR;
    let expected = disc.len() + std::mem::size_of::<T>();
    if data.len() < expected {
        return Err(DecodeError::TooShort {
            expected,
            got: data.len(),
        });
    }
    if &data[..disc.len()] != disc {
        return Err(DecodeError::WrongDiscriminator);
    }
    let mut out: Box<T> = Box::new(bytemuck::Zeroable::zeroed());
    bytemuck::bytes_of_mut(&mut *out).copy_from_slice(&data[disc.len()..expected]);
    Ok(out)
}

pub fn network(data: &[u8]) -> Result<Box<Network>, DecodeError> {
    decode(data)
}

pub fn topology(data: &[u8]) -> Result<Box<Topology>, DecodeError> {
    decode(data)
}

pub fn ballot(data: &[u8]) -> Result<Box<Ballot>, DecodeError> {
    decode(data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use anchor_lang::prelude::Pubkey;
    use bytemuck::Zeroable;
    use lifeline::state::*;

    fn raw<T: ZeroCopy + Discriminator>(value: &T) -> Vec<u8> {
        let mut data = T::DISCRIMINATOR.to_vec();
        data.extend_from_slice(bytemuck::bytes_of(value));
        data
    }

    #[test]
    fn every_account_round_trips() {
        let mut n: Box<Network> = Box::new(Network::zeroed());
        n.authority = Pubkey::new_unique();
        n.name = text::to_fixed("mainnet");
        n.keepers[3].keeper = Pubkey::new_unique();
        n.policy = PolicyParams::default().into();
        let back = network(&raw(&*n)).unwrap();
        assert_eq!(bytemuck::bytes_of(&*back), bytemuck::bytes_of(&*n));
        assert_eq!(back.name(), "mainnet");

        let mut t: Box<Topology> = Box::new(Topology::zeroed());
        t.epoch = 42;
        t.endpoint_count = 1;
        t.endpoints[0].url = text::to_fixed("https://rpc.example");
        t.endpoints[0].url_len = 19;
        t.endpoints[0].role = Role::Primary as u8;
        t.push_history(MigrationRecord {
            slot: 9,
            to_id: 3,
            ..MigrationRecord::default()
        });
        let back = topology(&raw(&*t)).unwrap();
        assert_eq!(bytemuck::bytes_of(&*back), bytemuck::bytes_of(&*t));
        assert_eq!(back.endpoints()[0].url(), "https://rpc.example");

        let mut b: Box<Ballot> = Box::new(Ballot::zeroed());
        b.reports[15].seq = u64::MAX;
        b.reports[15].votes[31].latency_ms = 77;
        let back = ballot(&raw(&*b)).unwrap();
        assert_eq!(bytemuck::bytes_of(&*back), bytemuck::bytes_of(&*b));
    }

    #[test]
    fn wrong_type_and_short_data_are_errors() {
        let t: Box<Topology> = Box::new(Topology::zeroed());
        assert_eq!(
            network(&raw(&*t)).unwrap_err(),
            DecodeError::WrongDiscriminator
        );
        assert!(matches!(
            topology(&[1, 2, 3]),
            Err(DecodeError::TooShort { .. })
        ));
        assert!(matches!(ballot(&[]), Err(DecodeError::TooShort { .. })));
    }
}
