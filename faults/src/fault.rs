//! The faults an endpoint can have: one table gives each kind its variant, its text name
//! and its number (from which Display, FromStr and the admin API's JSON all follow), and
//! one `impl` says what each kind does. Adding a fault kind is a line in the table, its
//! arms in that `impl` (every behaviour defaults to healthy), and its test.
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// A slot number.
pub type Slot = u64;

/// How a fault-injecting endpoint distorts what it reports: the slot it claims to be at,
/// and whether it is on another fork.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SlotView {
    /// Serve as if the node had processed no slot beyond this one (frozen / lagging node).
    pub cap: Option<Slot>,
    /// Serve blockhashes of another fork.
    pub forked: bool,
    /// Claim slots this far ahead of the cluster (a node lying about the future).
    pub ahead: Slot,
}

impl SlotView {
    /// `slot` as this node reports it.
    pub fn apply(&self, slot: Slot) -> Slot {
        self.cap
            .map_or(slot, |cap| cap.min(slot))
            .saturating_add(self.ahead)
    }
}

/// A PubSub slot notification's figures (`slotNotification`'s result).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlotInfo {
    pub slot: Slot,
    pub parent: Slot,
    pub root: Slot,
}

/// Defines `Fault` from a table of `Variant(field: type, "PLACEHOLDER", "what the number
/// is") = "text name";` lines, with the text forms derived from it.
macro_rules! fault_table {
    ($(
        $(#[$attr:meta])*
        $variant:ident $(($field:ident: $ty:ty, $placeholder:literal, $what:literal))? = $name:literal;
    )*) => {
        /// What an endpoint does to the requests it serves. Text form: the name, then the
        /// number if the kind has one (`lagging 20`); JSON form (admin API):
        /// `{"mode":"lagging","slots":20}`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
        #[serde(tag = "mode")]
        pub enum Fault {
            $(
                $(#[$attr])*
                #[serde(rename = $name)]
                $variant $({ $field: $ty })?,
            )*
        }

        impl Fault {
            /// Every kind's text form, as help texts show it (`lagging N`).
            pub const FORMS: &'static [&'static str] =
                &[$(concat!($name $(, " ", $placeholder)?)),*];

            /// The kind's text name (`lagging`).
            pub fn name(&self) -> &'static str {
                match self {
                    $(Fault::$variant { .. } => $name,)*
                }
            }

            /// The kind's number, if it has one (20 in `lagging 20`).
            pub fn number(&self) -> Option<u64> {
                match *self {
                    $(Fault::$variant $({ $field })? => fault_table!(@number $($field)?),)*
                }
            }

            /// The fault named `name`, taking its number from `number` if it has one.
            fn from_parts(
                name: &str,
                number: &mut dyn FnMut(&str) -> Result<u64, String>,
            ) -> Result<Self, String> {
                match name {
                    $($name => Ok(Fault::$variant $({
                        $field: <$ty>::try_from(number($what)?)
                            .map_err(|_| format!("`{}`: {} out of range", $name, $what))?,
                    })?),)*
                    other => Err(format!(
                        "unknown fault `{other}`; expected {}",
                        Fault::FORMS.join(", ")
                    )),
                }
            }

            /// One fault of each kind (numbers set to 7), for tests that cover every kind.
            pub fn examples() -> Vec<Fault> {
                vec![$(Fault::$variant $({ $field: fault_table!(@seven $field) })?),*]
            }
        }
    };
    (@number) => { None };
    (@number $field:ident) => { Some(u64::from($field)) };
    (@seven $field:ident) => { 7 };
}

fault_table! {
    /// Serves the cluster faithfully.
    #[default]
    Healthy = "healthy";
    /// Answers 200 OK (getHealth "ok"), but its slot stops where it was when frozen:
    /// transactions sent to it are acknowledged and dropped; a PubSub endpoint keeps the
    /// connection open and sends no more slot (or commit) notifications; an oracle's
    /// publish_time stops advancing.
    Frozen = "frozen";
    /// Trails the cluster by `slots`: RPC slots and contexts, PubSub slot notifications,
    /// an oracle's publish_time (by `slots` × the slot duration).
    Lagging(slots: u64, "N", "a slot count") = "lagging";
    /// Adds `ms` of latency to every answer (every message, on a WebSocket).
    Slow(ms: u64, "MS", "milliseconds") = "slow";
    /// Fails `percent` % of requests, spread evenly: HTTP errors or JSON-RPC errors,
    /// in the forms each endpoint kind uses (on a WebSocket: subscribe requests).
    Errors(percent: u8, "P", "a percentage") = "errors";
    /// Refuses connections (its port is closed) and drops those that are open.
    Down = "down";
    /// Alternates healthy / down every `period_ms`.
    Flapping(period_ms: u64, "MS", "a period in milliseconds") = "flapping";
    /// On another fork: answers like a healthy node, but the blockhashes it reports
    /// differ from the cluster's for the same slot. RPC only (others serve as healthy).
    Forked = "forked";
    /// Claims to be `slots` ahead of the cluster: RPC slots and contexts, PubSub and gRPC
    /// slot notifications, an oracle's publish_time (`slots` × the slot duration ahead).
    Future(slots: u64, "N", "a slot count") = "future";
    /// Answers every HTTP request with a JSON body of `mib` MiB (streamed, never held
    /// whole); a WebSocket sends one message that large per subscription.
    Giant(mib: u64, "MIB", "a size in MiB") = "giant";
    /// Answers with a body that never ends (HTTP: chunks forever); a WebSocket floods
    /// messages without end.
    Endless = "endless";
    /// Answers one byte a second, without end (HTTP).
    Trickle = "trickle";
    /// Answers malformed JSON (HTTP and WebSocket; gRPC: bytes that are no protobuf).
    Garbage = "garbage";
    /// Redirects every HTTP request to itself.
    Redirect = "redirect";
    /// Holds every other answer `ms`: latency flapping across a threshold.
    Wobble(ms: u64, "MS", "milliseconds") = "wobble";
}

/// What a hostile HTTP endpoint answers instead of the real answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostileBody {
    /// A JSON document of this many bytes, streamed.
    Giant(u64),
    /// Chunks forever.
    Endless,
    /// One byte a second, forever.
    Trickle,
    /// Malformed JSON.
    Garbage,
    /// A redirect to the same URL.
    Redirect,
}

/// Where the chain and the clock stood when an endpoint's fault was set: what a frozen
/// endpoint keeps reporting.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FrozenAt {
    pub slot: Slot,
    /// Wall clock, milliseconds since the Unix epoch.
    pub unix_ms: u64,
}

/// What each kind does. Every endpoint kind asks these, so a kind's behaviour is here and
/// nowhere else; an arm left out means "as a healthy endpoint".
impl Fault {
    /// The constraints on the kind's number.
    pub fn validate(&self) -> Result<(), String> {
        match self {
            Fault::Errors { percent } if *percent > 100 => {
                Err("`errors`: percentage must be 0..=100".into())
            }
            Fault::Flapping { period_ms: 0 } => Err("`flapping`: period must be > 0".into()),
            _ => Ok(()),
        }
    }

    /// Whether setting this fault over `previous` takes a new frozen point (FrozenAt):
    /// always, except `frozen` set again, which stays where it froze.
    pub fn refreezes(&self, previous: Fault) -> bool {
        !(*self == Fault::Frozen && previous == Fault::Frozen)
    }

    /// Whether the port is open `elapsed` after the fault was set.
    pub fn open(&self, elapsed: Duration) -> bool {
        match self {
            Fault::Down => false,
            Fault::Flapping { period_ms } => {
                (elapsed.as_millis() / u128::from(*period_ms)).is_multiple_of(2)
            }
            _ => true,
        }
    }

    /// Latency added to every answer (every message, on a WebSocket). `wobble` holds
    /// every other one (`nth` counts the answers).
    pub fn delay(&self) -> Duration {
        self.delay_of(0)
    }

    /// The latency added to answer number `nth`.
    pub fn delay_of(&self, nth: u64) -> Duration {
        match self {
            Fault::Slow { ms } => Duration::from_millis(*ms),
            Fault::Wobble { ms } if nth % 2 == 1 => Duration::from_millis(*ms),
            _ => Duration::ZERO,
        }
    }

    /// What an HTTP endpoint answers instead of its real answer, if anything.
    pub fn hostile_body(&self) -> Option<HostileBody> {
        match self {
            Fault::Giant { mib } => Some(HostileBody::Giant(mib.saturating_mul(1 << 20))),
            Fault::Endless => Some(HostileBody::Endless),
            Fault::Trickle => Some(HostileBody::Trickle),
            Fault::Garbage => Some(HostileBody::Garbage),
            Fault::Redirect => Some(HostileBody::Redirect),
            _ => None,
        }
    }

    /// Share of requests (percent) that fail.
    pub fn failure_percent(&self) -> u8 {
        match self {
            Fault::Errors { percent } => *percent,
            _ => 0,
        }
    }

    /// How an RPC endpoint sees the chain, the cluster's working slot being `working`.
    pub fn slot_view(&self, working: Slot, frozen: FrozenAt) -> SlotView {
        match self {
            Fault::Frozen => SlotView {
                cap: Some(frozen.slot),
                ..SlotView::default()
            },
            Fault::Lagging { slots } => SlotView {
                cap: Some(working.saturating_sub(*slots)),
                ..SlotView::default()
            },
            Fault::Forked => SlotView {
                forked: true,
                ..SlotView::default()
            },
            Fault::Future { slots } => SlotView {
                ahead: *slots,
                ..SlotView::default()
            },
            _ => SlotView::default(),
        }
    }

    /// Acknowledges transactions without landing them.
    pub fn drops_transactions(&self) -> bool {
        matches!(self, Fault::Frozen)
    }

    /// Behind the cluster: refuses what a node that is behind refuses (airdrops).
    pub fn behind(&self) -> bool {
        matches!(self, Fault::Frozen | Fault::Lagging { .. })
    }

    /// The slot notification a PubSub endpoint sends when the cluster ends a slot, if any.
    pub fn slot_notification(&self, info: SlotInfo) -> Option<SlotInfo> {
        match self {
            Fault::Frozen => None,
            Fault::Lagging { slots } => Some(SlotInfo {
                slot: info.slot.checked_sub(*slots)?,
                parent: info.parent.saturating_sub(*slots),
                root: info.root.saturating_sub(*slots),
            }),
            Fault::Future { slots } => Some(SlotInfo {
                slot: info.slot.saturating_add(*slots),
                parent: info.parent.saturating_add(*slots),
                root: info.root.saturating_add(*slots),
            }),
            _ => Some(info),
        }
    }

    /// Whether a PubSub endpoint sends account, program and signature notifications.
    pub fn notifies_commits(&self) -> bool {
        !matches!(self, Fault::Frozen)
    }

    /// The time (ms since the Unix epoch) an oracle publishes at wall clock `now_ms`.
    pub fn publish_time_ms(&self, now_ms: u64, frozen: FrozenAt, slot: Duration) -> u64 {
        match self {
            Fault::Frozen => frozen.unix_ms,
            Fault::Lagging { slots } => {
                let behind = slot.as_millis().saturating_mul(u128::from(*slots));
                now_ms.saturating_sub(u64::try_from(behind).unwrap_or(u64::MAX))
            }
            Fault::Future { slots } => {
                let ahead = slot.as_millis().saturating_mul(u128::from(*slots));
                now_ms.saturating_add(u64::try_from(ahead).unwrap_or(u64::MAX))
            }
            _ => now_ms,
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.number() {
            Some(n) => write!(f, "{} {n}", self.name()),
            None => f.write_str(self.name()),
        }
    }
}

/// Parses the text form: `healthy`, `frozen`, `lagging 20`, `slow 500`, `errors 30`,
/// `down`, `flapping 2000`, `forked`.
impl FromStr for Fault {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let mut words = s.split_whitespace();
        let name = words.next().unwrap_or("");
        let mut number = |what: &str| -> Result<u64, String> {
            words
                .next()
                .ok_or_else(|| format!("`{name}` needs {what}"))?
                .parse::<u64>()
                .map_err(|_| format!("`{name}`: {what} must be a whole number"))
        };
        let fault = Fault::from_parts(name, &mut number)?;
        if words.next().is_some() {
            return Err(format!("too many words in `{s}`"));
        }
        fault.validate()?;
        Ok(fault)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_round_trips_through_text_and_json() {
        let examples = Fault::examples();
        assert_eq!(examples.len(), Fault::FORMS.len());
        for (fault, form) in examples.iter().zip(Fault::FORMS) {
            let text = fault.to_string();
            assert_eq!(text.parse::<Fault>(), Ok(*fault), "{text}");
            assert_eq!(
                form.split(' ').count(),
                text.split(' ').count(),
                "{form} / {text}"
            );
            let json = serde_json::to_value(fault).unwrap();
            assert_eq!(json["mode"], fault.name(), "{json}");
            assert_eq!(serde_json::from_value::<Fault>(json).unwrap(), *fault);
        }
    }

    #[test]
    fn the_text_forms_are_the_documented_ones() {
        for (text, fault) in [
            ("healthy", Fault::Healthy),
            ("frozen", Fault::Frozen),
            ("lagging 20", Fault::Lagging { slots: 20 }),
            ("slow 500", Fault::Slow { ms: 500 }),
            ("errors 30", Fault::Errors { percent: 30 }),
            ("down", Fault::Down),
            ("flapping 2000", Fault::Flapping { period_ms: 2000 }),
            ("forked", Fault::Forked),
            ("future 1000000", Fault::Future { slots: 1_000_000 }),
            ("giant 64", Fault::Giant { mib: 64 }),
            ("endless", Fault::Endless),
            ("trickle", Fault::Trickle),
            ("garbage", Fault::Garbage),
            ("redirect", Fault::Redirect),
            ("wobble 600", Fault::Wobble { ms: 600 }),
        ] {
            assert_eq!(text.parse::<Fault>(), Ok(fault));
            assert_eq!(fault.to_string(), text);
        }
        assert_eq!(
            serde_json::to_value(Fault::Lagging { slots: 20 }).unwrap(),
            serde_json::json!({ "mode": "lagging", "slots": 20 })
        );
    }

    #[test]
    fn bad_text_is_refused_with_a_reason() {
        for bad in [
            "",
            "sideways",
            "lagging",
            "lagging x",
            "errors 101",
            "errors 300",
            "flapping 0",
            "down now",
        ] {
            let e = bad.parse::<Fault>().unwrap_err();
            assert!(!e.is_empty(), "{bad}");
        }
        let e = "sideways".parse::<Fault>().unwrap_err();
        assert!(e.contains("lagging N") && e.contains("forked"), "{e}");
    }

    #[test]
    fn behaviour_defaults_to_healthy() {
        let frozen = FrozenAt {
            slot: 5,
            unix_ms: 1_000,
        };
        let info = SlotInfo {
            slot: 30,
            parent: 29,
            root: 29,
        };
        let h = Fault::Healthy;
        assert!(h.open(Duration::from_secs(1)));
        assert_eq!(h.delay(), Duration::ZERO);
        assert_eq!(h.failure_percent(), 0);
        assert_eq!(h.slot_view(30, frozen), SlotView::default());
        assert_eq!(h.slot_notification(info), Some(info));
        assert_eq!(
            h.publish_time_ms(9_000, frozen, Duration::from_millis(400)),
            9_000
        );
        let lag = Fault::Lagging { slots: 10 };
        assert_eq!(lag.slot_notification(info).unwrap().slot, 20);
        assert_eq!(
            lag.publish_time_ms(9_000, frozen, Duration::from_millis(400)),
            5_000
        );
        assert_eq!(Fault::Frozen.slot_notification(info), None);
        assert_eq!(
            Fault::Frozen.publish_time_ms(9_000, frozen, Duration::from_millis(400)),
            1_000
        );
        assert!(Fault::Forked.slot_view(30, frozen).forked);
        let future = Fault::Future { slots: 1 << 63 };
        assert_eq!(future.slot_view(30, frozen).apply(30), 30 + (1 << 63));
        assert_eq!(future.slot_notification(info).unwrap().slot, 30 + (1 << 63));
        assert_eq!(
            Fault::Future { slots: u64::MAX }
                .slot_view(30, frozen)
                .apply(30),
            u64::MAX,
            "saturates"
        );
        let wobble = Fault::Wobble { ms: 600 };
        assert_eq!(
            (wobble.delay_of(0), wobble.delay_of(1)),
            (Duration::ZERO, Duration::from_millis(600))
        );
        assert_eq!(
            Fault::Giant { mib: 2 }.hostile_body(),
            Some(HostileBody::Giant(2 << 20))
        );
        assert_eq!(h.hostile_body(), None);
        assert!(Fault::Frozen.refreezes(Fault::Healthy) && !Fault::Frozen.refreezes(Fault::Frozen));
        let flap = Fault::Flapping { period_ms: 100 };
        assert!(flap.open(Duration::from_millis(50)) && !flap.open(Duration::from_millis(150)));
    }
}
