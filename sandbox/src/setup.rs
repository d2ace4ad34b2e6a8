//! Setting a sandbox up: the topology its config describes, applied in-process through
//! the planner `lifeline apply` uses.
use anchor_lang::prelude::Pubkey;
use async_trait::async_trait;
use lifeline::state::{PolicyParams, Topology};
use lifeline_client::plan::{self, EndpointSpec, KeeperSpec, NetworkSpec, Spec, SpecRole};
use lifeline_client::{accounts, pda};
use lifeline_localnet::{Localnet, SimulatedEndpoint};
use solana_account::ReadableAccount;
use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_signer::Signer;

use crate::SandboxConfig;

/// The localnet as a target for `plan::apply`: transactions go in-process.
pub(crate) struct Direct<'a> {
    pub net: &'a Localnet,
    pub authority: &'a Keypair,
}

#[async_trait]
impl plan::Target for Direct<'_> {
    async fn topology(&self, network: &Pubkey) -> Result<Option<Box<Topology>>, String> {
        Ok(read::<Topology>(self.net, &pda::topology(network).0))
    }
    async fn send(&self, ix: Instruction) -> Result<String, String> {
        self.net
            .send(self.authority, &[ix])
            .map(|s| s.to_string())
            .map_err(|e| e.to_string())
    }
}

pub(crate) fn read<T: anchor_lang::ZeroCopy + anchor_lang::Discriminator>(
    net: &Localnet,
    key: &Pubkey,
) -> Option<Box<T>> {
    let acc = net.cluster.working_bank().get_account(key)?;
    accounts::decode::<T>(acc.data()).ok()
}

/// The topology the config describes: endpoint i is the i-th simulated endpoint, of its
/// kind, at its localnet URL, in region r{i} and provider p{i}; keeper i in region r{i},
/// provider p{i % 2}.
pub(crate) fn spec(
    config: &SandboxConfig,
    simulated: &[SimulatedEndpoint],
    keepers: &[Keypair],
) -> Spec {
    let groups: Vec<Vec<usize>> = if config.groups.is_empty() {
        vec![(0..simulated.len()).collect()]
    } else {
        config.groups.clone()
    };
    let mut endpoints = Vec::new();
    for (g, members) in groups.iter().enumerate() {
        for (n, &i) in members.iter().enumerate() {
            let (region, provider) = config
                .endpoint_labels
                .get(i)
                .cloned()
                .unwrap_or_else(|| (format!("r{i}"), format!("p{i}")));
            endpoints.push(EndpointSpec {
                group: g as u8,
                kind: simulated[i].kind,
                role: if n == 0 {
                    SpecRole::Primary
                } else {
                    SpecRole::Standby
                },
                url: simulated[i].url.clone(),
                region,
                provider,
                priority: n as u8,
            });
        }
    }
    Spec {
        network: NetworkSpec {
            name: config.name.clone(),
            address: None,
            creator: None,
            guardian: None,
        },
        policy: PolicyParams::FIELDS
            .iter()
            .map(|f| (f.name.to_string(), (f.get)(&config.policy)))
            .collect(),
        keepers: keepers
            .iter()
            .enumerate()
            .map(|(i, k)| {
                let (region, provider) = config
                    .keeper_labels
                    .get(i)
                    .cloned()
                    .unwrap_or_else(|| (format!("r{i}"), format!("p{}", i % 2)));
                KeeperSpec {
                    pubkey: k.pubkey(),
                    region,
                    provider,
                }
            })
            .collect(),
        endpoints,
    }
}
