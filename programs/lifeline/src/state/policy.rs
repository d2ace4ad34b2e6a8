use anchor_lang::prelude::*;

/// The failover policy is declared once, here: the stored `Policy` (zero-copy, inside the
/// Network account), the instruction argument `PolicyParams` (Borsh), their conversions,
/// the defaults and `PolicyParams::FIELDS` (name, meaning, default, get/set) all come from
/// this one list. The CLI flags, the topology file, the keeper and the status display read
/// `FIELDS`, so a new field is added here and in `engine::policy::validate` only.
///
/// Fields are listed u64s first, then u32, u16 and u8 so the `repr(C)` layout has no
/// implicit padding (zero_copy needs that). Append new fields at the end of their width
/// group and take the bytes from `reserved`.
macro_rules! policy_fields {
    ($( $(#[doc = $doc:literal])+ $name:ident : $ty:ident = $default:expr ),+ $(,)?) => {
        /// Failover policy, stored inside the Network account. Validation lives in
        /// `engine::policy` so the keeper applies the very same rules.
        #[zero_copy]
        #[derive(Debug, Default, PartialEq, Eq)]
        pub struct Policy {
            $( $(#[doc = $doc])+ pub $name: $ty, )+
            pub reserved: [u8; POLICY_RESERVED],
        }

        /// The policy as an instruction argument (Borsh), without the reserved bytes.
        #[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
        pub struct PolicyParams {
            $( $(#[doc = $doc])+ pub $name: $ty, )+
        }

        impl Default for PolicyParams {
            fn default() -> Self {
                Self { $( $name: $default, )+ }
            }
        }

        impl From<PolicyParams> for Policy {
            fn from(p: PolicyParams) -> Self {
                Self { $( $name: p.$name, )+ reserved: [0; POLICY_RESERVED] }
            }
        }

        impl From<&Policy> for PolicyParams {
            fn from(p: &Policy) -> Self {
                Self { $( $name: p.$name, )+ }
            }
        }

        impl PolicyParams {
            /// Every field, in declaration order.
            pub const FIELDS: &'static [PolicyField] = &[
                $( PolicyField {
                    name: stringify!($name),
                    doc: concat!($($doc, "\n"),+),
                    default: $default as u64,
                    max: <$ty>::MAX as u64,
                    get: |p| p.$name as u64,
                    set: |p, v| match <$ty>::try_from(v) {
                        Ok(v) => { p.$name = v; true }
                        Err(_) => false,
                    },
                }, )+
            ];
        }
    };
}

/// Bytes of `Policy` kept free for future fields.
pub const POLICY_RESERVED: usize = 5;

policy_fields! {
    /// A report's "down" votes count only while its reference slot is at most this many
    /// slots old: a migration is always decided on fresh evidence.
    staleness_slots: u64 = 50,
    /// A keeper that has not attested for this many slots is silent: none of its votes
    /// count. Keepers attest on change and send a heartbeat every third of this window.
    liveness_slots: u64 = 750,
    /// Minimum slots between two automatic migrations of one group.
    cooldown_slots: u64 = 150,
    /// Quarantine after the first ejection; grows linearly with each ejection.
    quarantine_base_slots: u64 = 750,
    /// Cap on the quarantine length.
    quarantine_max_slots: u64 = 9_000,
    /// How long a quarantined endpoint must stay quorum-healthy before readmission.
    probation_slots: u64 = 300,
    /// Median probe latency at or above which an endpoint is degraded.
    latency_degraded_ms: u32 = 500,
    /// Probe latency at or above which an endpoint is down (keepers time probes out here).
    latency_down_ms: u32 = 1_000,
    /// Slots behind the keeper's reference at or above which an endpoint is degraded.
    lag_degraded_slots: u32 = 10,
    /// Slots behind the keeper's reference at or above which an endpoint is down.
    lag_down_slots: u32 = 50,
    /// An endpoint whose slot stays unchanged while the reference advances this many
    /// slots is stalled (down) long before it is `lag_down_slots` behind. 0 = off.
    stall_slots: u32 = 2,
    /// Failed probes (basis points of the keeper's window) at or above which an endpoint
    /// is degraded.
    error_degraded_bps: u16 = 1_000,
    /// Failed probes (basis points) at or above which an endpoint is down.
    error_down_bps: u16 = 5_000,
    /// Agreeing keepers needed; 0 = automatic (more than 2/3 of the keepers).
    quorum: u8 = 0,
    /// Consecutive bad probe windows a keeper must see before it votes "down".
    breach_windows: u8 = 2,
    /// Consecutive good probe windows before a keeper votes "healthy".
    recovery_windows: u8 = 2,
}

/// One policy field, for tools that list, parse, diff or display the policy.
#[derive(Clone, Copy)]
pub struct PolicyField {
    pub name: &'static str,
    /// What the field means (its doc comment).
    pub doc: &'static str,
    pub default: u64,
    /// The largest value the field's type holds (ranges are checked by `validate`).
    pub max: u64,
    pub get: fn(&PolicyParams) -> u64,
    /// Sets the field; false if `v` does not fit its type.
    pub set: fn(&mut PolicyParams, u64) -> bool,
}

impl core::fmt::Debug for PolicyField {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name)
    }
}

impl PolicyParams {
    pub fn field(name: &str) -> Option<&'static PolicyField> {
        Self::FIELDS.iter().find(|f| f.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_field_table_reads_and_writes_every_field() {
        let mut p = PolicyParams::default();
        for (i, f) in PolicyParams::FIELDS.iter().enumerate() {
            assert_eq!((f.get)(&p), f.default, "{}", f.name);
            assert!((f.set)(&mut p, i as u64 + 1), "{}", f.name);
            assert!(!f.doc.is_empty());
        }
        for (i, f) in PolicyParams::FIELDS.iter().enumerate() {
            assert_eq!((f.get)(&p), i as u64 + 1, "{} is its own field", f.name);
        }
        let quorum = PolicyParams::field("quorum").unwrap();
        assert!(!(quorum.set)(&mut p, 256), "does not fit a u8");
        assert_eq!(quorum.max, 255);
    }

    #[test]
    fn the_stored_policy_keeps_its_size() {
        // Network's layout depends on it: new fields take bytes from `reserved`.
        assert_eq!(core::mem::size_of::<Policy>(), 80);
        let p = PolicyParams::default();
        assert_eq!(PolicyParams::from(&Policy::from(p)), p);
    }
}
