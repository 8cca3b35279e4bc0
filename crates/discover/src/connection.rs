//! What discovery proposes: connections between workloads (and the API
//! server, nodes, the outside), each with the evidence that produced it.

use std::collections::BTreeMap;
use std::fmt;

use ipnet::IpNet;
use netpol_model::{Manifest, Protocol};
use serde::{Serialize, Serializer};

/// One end of a proposed connection.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Peer {
    /// `namespace/name` of the owning Deployment/StatefulSet/DaemonSet/
    /// CronJob/Job, or of a bare Pod.
    Workload(String),
    KubeApiserver,
    /// The nodes' own addresses (kubelet, host-network components).
    Nodes,
    /// Anywhere outside the cluster.
    External,
    Cidr(IpNet),
}

impl Peer {
    pub fn workload(namespace: &str, name: &str) -> Peer {
        Peer::Workload(format!("{namespace}/{name}"))
    }
}

impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Peer::Workload(id) => f.write_str(id),
            Peer::KubeApiserver => f.write_str("kube-apiserver"),
            Peer::Nodes => f.write_str("nodes"),
            Peer::External => f.write_str("external"),
            Peer::Cidr(net) => write!(f, "{net}"),
        }
    }
}

impl Serialize for Peer {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// How sure a rule is that the connection is needed. Ordered weakest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    /// A convention or a weak hint: proposed commented out, for review.
    Guess,
    /// Strong evidence with one assumption (a default port, a known image).
    Likely,
    /// The manifests say so unambiguously.
    Certain,
}

impl Confidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Guess => "guess",
            Confidence::Likely => "likely",
            Confidence::Certain => "certain",
        }
    }
}

/// A place in the input that supports a proposal.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Evidence {
    pub file: String,
    pub line: usize,
    /// `Kind namespace/name`.
    pub object: String,
    /// Field path within the object, `spec.template.spec.containers[0].env[3].value`.
    pub field: String,
    /// The text found there (a URL, a host name, a selector), as written.
    pub text: String,
}

impl Evidence {
    pub fn at(manifest: &Manifest, field: &str, text: impl Into<String>) -> Evidence {
        Evidence {
            file: manifest.origin.file.to_string(),
            line: manifest.line(field),
            object: manifest.display_name(),
            field: field.to_string(),
            text: text.into(),
        }
    }
}

impl fmt::Display for Evidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{} {} {}: {}",
            self.file, self.line, self.object, self.field, self.text
        )
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Connection {
    pub src: Peer,
    pub dst: Peer,
    /// The port the destination pod receives on (after the Service's
    /// port -> targetPort translation, named ports resolved).
    pub port: u16,
    pub protocol: Protocol,
    /// The evidence rule that proposed it (`env-url`, `ingress`, ...).
    pub rule: &'static str,
    pub confidence: Confidence,
    /// Sorted, without duplicates.
    pub evidence: Vec<Evidence>,
}

/// Evidence that points at a need discovery could not turn into a
/// connection: an encrypted secret, a host that names no Service. Reported,
/// never guessed.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Unresolved {
    /// The workload (or object) the evidence belongs to.
    pub subject: String,
    pub rule: &'static str,
    pub reason: String,
    pub evidence: Evidence,
}

/// Everything discovery found, sorted.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Discovery {
    pub connections: Vec<Connection>,
    pub unresolved: Vec<Unresolved>,
}

type Key = (Peer, Peer, u16, Protocol, &'static str);

/// Collects what the rules propose. The same connection proposed twice by
/// one rule is one connection with both pieces of evidence and the stronger
/// confidence.
#[derive(Default)]
pub struct Sink {
    connections: BTreeMap<Key, (Confidence, Vec<Evidence>)>,
    unresolved: Vec<Unresolved>,
}

impl Sink {
    #[allow(clippy::too_many_arguments)]
    pub fn connect(
        &mut self,
        src: Peer,
        dst: Peer,
        port: u16,
        protocol: Protocol,
        rule: &'static str,
        confidence: Confidence,
        evidence: Evidence,
    ) {
        let entry = self
            .connections
            .entry((src, dst, port, protocol, rule))
            .or_insert((confidence, Vec::new()));
        entry.0 = entry.0.max(confidence);
        entry.1.push(evidence);
    }

    pub fn unresolved(
        &mut self,
        subject: impl Into<String>,
        rule: &'static str,
        reason: impl Into<String>,
        evidence: Evidence,
    ) {
        self.unresolved.push(Unresolved {
            subject: subject.into(),
            rule,
            reason: reason.into(),
            evidence,
        });
    }

    pub fn finish(self) -> Discovery {
        let connections = self
            .connections
            .into_iter()
            .map(
                |((src, dst, port, protocol, rule), (confidence, mut evidence))| {
                    evidence.sort();
                    evidence.dedup();
                    Connection {
                        src,
                        dst,
                        port,
                        protocol,
                        rule,
                        confidence,
                        evidence,
                    }
                },
            )
            .collect();
        let mut unresolved = self.unresolved;
        unresolved.sort();
        unresolved.dedup();
        Discovery {
            connections,
            unresolved,
        }
    }
}
