//! Decoding of Lifeline accounts from raw account data (as fetched over RPC).
use anchor_lang::{Discriminator, ZeroCopy};
use lifeline::state::{KeeperReport, Network, Topology};

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

pub fn report(data: &[u8]) -> Result<Box<KeeperReport>, DecodeError> {
    decode(data)
}
