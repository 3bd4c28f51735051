//! A sender that rewrites what it sends: a Byzantine node running honest code but lying on
//! the wire (a copy of the consensus crate's test wrapper; test modules cannot be shared).

use commonware_actor::{Feedback, Unreliable};
use commonware_cryptography::ed25519::PublicKey;
use commonware_p2p::{CheckedSender, LimitedSender, Recipients, Sender};
use commonware_runtime::{IoBuf, IoBufs};
use std::{sync::Arc, time::SystemTime};

/// Given the recipients and the message, what to send instead, to whom.
pub type Rewrite =
    Arc<dyn Fn(Recipients<PublicKey>, IoBuf) -> Vec<(Recipients<PublicKey>, IoBuf)> + Send + Sync>;

/// `inner`, with every message passed through `rewrite` (if any).
#[derive(Clone)]
pub struct Tamper<S> {
    pub inner: S,
    pub rewrite: Option<Rewrite>,
}

impl<S> Tamper<S> {
    /// A sender that sends as `inner` does.
    pub fn honest(inner: S) -> Self {
        Self {
            inner,
            rewrite: None,
        }
    }
}

impl<S: Sender<PublicKey = PublicKey>> LimitedSender for Tamper<S> {
    type PublicKey = PublicKey;
    type Checked<'a>
        = Tampered<'a, S>
    where
        Self: 'a;

    fn check(&mut self, recipients: Recipients<PublicKey>) -> Result<Tampered<'_, S>, SystemTime> {
        let Some(rewrite) = self.rewrite.clone() else {
            return self.inner.check(recipients).map(Tampered::Direct);
        };
        let accepted = self.inner.check(recipients.clone())?.recipients();
        Ok(Tampered::Rewritten {
            sender: self.inner.clone(),
            recipients,
            accepted,
            rewrite,
        })
    }
}

pub enum Tampered<'a, S: Sender + 'a> {
    Direct(S::Checked<'a>),
    Rewritten {
        sender: S,
        recipients: Recipients<PublicKey>,
        accepted: Vec<PublicKey>,
        rewrite: Rewrite,
    },
}

impl<S: Sender<PublicKey = PublicKey>> CheckedSender for Tampered<'_, S> {
    type PublicKey = PublicKey;

    fn recipients(&self) -> Vec<PublicKey> {
        match self {
            Self::Direct(c) => c.recipients(),
            Self::Rewritten { accepted, .. } => accepted.clone(),
        }
    }

    fn send(self, message: impl Into<IoBufs> + Send, priority: bool) -> Unreliable<Feedback> {
        match self {
            Self::Direct(c) => c.send(message, priority),
            Self::Rewritten {
                mut sender,
                recipients,
                rewrite,
                ..
            } => {
                for (to, msg) in rewrite(recipients, message.into().coalesce()) {
                    sender.send(to, msg, priority);
                }
                Unreliable::new(Feedback::Ok)
            }
        }
    }
}
