//! Policies compiled once against a cluster: which endpoints each policy
//! selects and which endpoints each peer and rule admits, as bitsets.
//! Verdicts, traces and the matrix all read these same structures.

use std::net::IpAddr;
use std::sync::OnceLock;

use fixedbitset::FixedBitSet;
use ipnet::IpNet;
use netpol_model::{
    Cluster, Direction, Endpoint, Family, Peer, Policy, PortRef, PortRule, Protocol, Rule,
};
use rayon::prelude::*;

use crate::index::LabelIndex;

pub struct CompiledPeer {
    /// Endpoints this peer admits (for an ipBlock: those with an address in it).
    pub endpoints: FixedBitSet,
    /// An ipBlock's family: it admits its endpoints over connections of that
    /// family only. `None` for pod and namespace selectors, which admit pods
    /// whatever the family.
    pub family: Option<Family>,
}

impl CompiledPeer {
    /// Whether the peer admits `endpoint` over a connection of `family`
    /// (`None`: of some family).
    pub fn admits(&self, endpoint: usize, family: Option<Family>) -> bool {
        self.endpoints.contains(endpoint)
            && (self.family.is_none() || family.is_none() || self.family == family)
    }
}

pub struct CompiledRule {
    pub index: usize,
    pub peers: Vec<CompiledPeer>,
    /// The union of the peers' endpoints; `None` when the rule has one peer,
    /// whose own set it is (most rules: a set per endpoint each, at
    /// 150,000 pods hundreds of megabytes).
    union: Option<FixedBitSet>,
    /// Per family (indexed by [`family_index`]), the endpoints admitted over
    /// connections of that family; `None` when the rule has no ipBlock, so
    /// that `admitted` holds for both.
    pub admitted_by_family: Option<Box<[FixedBitSet; 2]>>,
}

impl CompiledRule {
    /// Endpoints the rule admits over some family; everything when it has
    /// no peers.
    pub fn admitted(&self) -> &FixedBitSet {
        match (&self.union, self.peers.first()) {
            (None, Some(peer)) => &peer.endpoints,
            (Some(union), _) => union,
            (None, None) => unreachable!("a rule without peers keeps its set of everything"),
        }
    }

    /// Endpoints admitted over connections of `family` (`None`: of some family).
    pub fn admitted_over(&self, family: Option<Family>) -> &FixedBitSet {
        match (&self.admitted_by_family, family) {
            (Some(sets), Some(f)) => &sets[family_index(f)],
            _ => self.admitted(),
        }
    }
}

pub fn family_index(f: Family) -> usize {
    match f {
        Family::V4 => 0,
        Family::V6 => 1,
    }
}

pub struct CompiledPolicy {
    /// Endpoints the podSelector selects (never host-network ones).
    pub selected: FixedBitSet,
    /// The same, as a list: policies usually select few pods, and adding
    /// them one by one is cheaper than a union over every endpoint.
    pub selected_list: Vec<usize>,
    pub ingress: Vec<CompiledRule>,
    pub egress: Vec<CompiledRule>,
}

impl CompiledPolicy {
    pub fn rules(&self, direction: Direction) -> &[CompiledRule] {
        match direction {
            Direction::Ingress => &self.ingress,
            Direction::Egress => &self.egress,
        }
    }
}

/// An egress rule admitting a destination. Compact, and it says whether the
/// rule holds an ipBlock, so that the matrix's hot loop reads the compiled
/// rule only then.
#[derive(Clone, Copy)]
pub(crate) struct AdmittingRule {
    pub policy: u32,
    pub rule: u32,
    pub by_family: bool,
}

/// A cluster with its policies compiled. Cheap to query, immutable.
pub struct Engine<'c> {
    pub cluster: &'c Cluster,
    pub policies: Vec<CompiledPolicy>,
    /// Per endpoint: the policies that select it and affect ingress / egress.
    pub(crate) ingress_policies_of: Vec<Vec<usize>>,
    pub(crate) egress_policies_of: Vec<Vec<usize>>,
    /// Per endpoint: the egress rules that admit it (over some family).
    /// Built on first use: only the matrix reads it, and at 150,000 pods it
    /// holds hundreds of millions of entries (gigabytes, most of `new`'s time)
    /// that `netpol nft` never needs.
    egress_rules_admitting: OnceLock<Vec<Vec<AdmittingRule>>>,
    /// Endpoints whose egress no policy isolates.
    pub(crate) egress_open: FixedBitSet,
    /// Per family (indexed by [`family_index`]): the endpoints that can take
    /// part in a connection of that family.
    pub(crate) can_use: [FixedBitSet; 2],
    /// Destinations an ipBlock rule can decide for (one of their ingress
    /// rules, or an egress rule admitting them), so that the answer may
    /// differ per family.
    pub(crate) family_dependent: FixedBitSet,
    /// The cluster policies compiled; `None` without any, so that
    /// NetworkPolicy alone keeps its path.
    pub tiers: Option<Box<crate::tier::CompiledTiers>>,
}

impl<'c> Engine<'c> {
    pub fn new(cluster: &'c Cluster) -> Engine<'c> {
        let n = cluster.endpoints.len();
        let index = LabelIndex::new(cluster);
        let policies: Vec<CompiledPolicy> = cluster
            .policies
            .par_iter()
            .map(|p| compile_policy(cluster, &index, p))
            .collect();
        let mut ingress_policies_of = vec![Vec::new(); n];
        let mut egress_policies_of = vec![Vec::new(); n];
        let mut egress_isolated = FixedBitSet::with_capacity(n);
        let mut family_dependent = FixedBitSet::with_capacity(n);
        for (pi, (policy, compiled)) in cluster.policies.iter().zip(&policies).enumerate() {
            if policy.affects_ingress
                && compiled
                    .ingress
                    .iter()
                    .any(|r| r.admitted_by_family.is_some())
            {
                family_dependent.union_with(&compiled.selected);
            }
            if policy.affects_egress {
                for rule in compiled
                    .egress
                    .iter()
                    .filter(|r| r.admitted_by_family.is_some())
                {
                    family_dependent.union_with(rule.admitted());
                }
            }
            for e in compiled.selected.ones() {
                if policy.affects_ingress {
                    ingress_policies_of[e].push(pi);
                }
                if policy.affects_egress {
                    egress_policies_of[e].push(pi);
                }
            }
            if policy.affects_egress {
                egress_isolated.union_with(&compiled.selected);
            }
        }
        let mut egress_open = egress_isolated;
        egress_open.toggle_range(..);
        let can_use = Family::ALL.map(|f| {
            let mut set = FixedBitSet::with_capacity(n);
            for (i, e) in cluster.endpoints.iter().enumerate() {
                set.set(i, e.can_use(f));
            }
            set
        });
        let tiers = crate::tier::CompiledTiers::new(cluster, &index).map(Box::new);
        Engine {
            tiers,
            cluster,
            policies,
            ingress_policies_of,
            egress_policies_of,
            egress_rules_admitting: OnceLock::new(),
            egress_open,
            can_use,
            family_dependent,
        }
    }

    /// Per endpoint: the egress rules that admit it (over some family),
    /// sorted by policy.
    pub(crate) fn egress_rules_admitting(&self, endpoint: usize) -> &[AdmittingRule] {
        &self.egress_rules_admitting.get_or_init(|| {
            let mut of = vec![Vec::new(); self.cluster.endpoints.len()];
            for (pi, (policy, compiled)) in
                self.cluster.policies.iter().zip(&self.policies).enumerate()
            {
                if !policy.affects_egress {
                    continue;
                }
                for (ri, rule) in compiled.egress.iter().enumerate() {
                    for e in rule.admitted().ones() {
                        of[e].push(AdmittingRule {
                            policy: pi as u32,
                            rule: ri as u32,
                            by_family: rule.admitted_by_family.is_some(),
                        });
                    }
                }
            }
            of
        })[endpoint]
    }

    pub fn endpoint_count(&self) -> usize {
        self.cluster.endpoints.len()
    }

    pub fn policies_selecting(&self, endpoint: usize, direction: Direction) -> &[usize] {
        match direction {
            Direction::Ingress => &self.ingress_policies_of[endpoint],
            Direction::Egress => &self.egress_policies_of[endpoint],
        }
    }

    pub fn policy(&self, index: usize) -> (&'c Policy, &CompiledPolicy) {
        (&self.cluster.policies[index], &self.policies[index])
    }
}

fn compile_policy(cluster: &Cluster, index: &LabelIndex, policy: &Policy) -> CompiledPolicy {
    let n = cluster.endpoints.len();
    let mut selected = index.select(&policy.pod_selector);
    selected.intersect_with(&index.in_namespace(&policy.namespace));
    selected.intersect_with(&index.pods);
    let compile_rules = |d: Direction| {
        policy
            .rules(d)
            .iter()
            .enumerate()
            .map(|(rule_index, rule)| {
                let peers: Vec<CompiledPeer> = rule
                    .peers
                    .iter()
                    .map(|peer| CompiledPeer {
                        endpoints: peer_endpoints(index, policy, peer),
                        family: match peer {
                            Peer::IpBlock { cidr, .. } => Some(Family::of_net(cidr)),
                            Peer::Pods { .. } => None,
                        },
                    })
                    .collect();
                let union = (peers.len() != 1).then(|| {
                    let mut union = FixedBitSet::with_capacity(n);
                    if peers.is_empty() {
                        union.insert_range(..);
                    }
                    for p in &peers {
                        union.union_with(&p.endpoints);
                    }
                    union
                });
                let admitted_by_family = peers.iter().any(|p| p.family.is_some()).then(|| {
                    Box::new(Family::ALL.map(|f| {
                        let mut set = FixedBitSet::with_capacity(n);
                        for p in peers.iter().filter(|p| p.family.is_none_or(|pf| pf == f)) {
                            set.union_with(&p.endpoints);
                        }
                        set
                    }))
                });
                CompiledRule {
                    index: rule_index,
                    peers,
                    union,
                    admitted_by_family,
                }
            })
            .collect()
    };
    CompiledPolicy {
        selected_list: selected.ones().collect(),
        selected,
        ingress: compile_rules(Direction::Ingress),
        egress: compile_rules(Direction::Egress),
    }
}

fn peer_endpoints(index: &LabelIndex, policy: &Policy, peer: &Peer) -> FixedBitSet {
    match peer {
        Peer::Pods {
            pod_selector,
            namespace_selector,
            ..
        } => {
            let mut set = match namespace_selector {
                None => index.in_namespace(&policy.namespace),
                Some(sel) => index.in_namespaces_matching(sel),
            };
            set.intersect_with(&index.pods);
            if let Some(sel) = pod_selector {
                set.intersect_with(&index.select(sel));
            }
            set
        }
        Peer::IpBlock { cidr, except, .. } => index.in_block(cidr, except),
    }
}

pub fn ip_in_block(ip: IpAddr, cidr: &IpNet, except: &[IpNet]) -> bool {
    cidr.contains(&ip)
        && (crate::test_hook::excepts_ignored() || !except.iter().any(|x| x.contains(&ip)))
}

/// Whether a NetworkPolicy rule's peers admit an address outside the
/// cluster: no peers (every peer), or an ipBlock holding it.
pub(crate) fn rule_admits_address(rule: &Rule, ip: IpAddr) -> bool {
    rule.peers.is_empty()
        || rule.peers.iter().any(|p| match p {
            Peer::IpBlock { cidr, except, .. } => ip_in_block(ip, cidr, except),
            Peer::Pods { .. } => false,
        })
}

/// Whether a port entry admits `port`/`protocol` on the destination. Named
/// ports resolve against the destination pod; without one they admit nothing.
pub fn port_rule_admits(
    rule: &PortRule,
    dst: Option<&Endpoint>,
    port: u16,
    protocol: Protocol,
) -> bool {
    if rule.protocol != protocol {
        return false;
    }
    match &rule.port {
        None => true,
        Some(PortRef::Number(start)) => match rule.end_port {
            Some(end) => (*start..=end).contains(&port),
            None => *start == port,
        },
        Some(PortRef::Name(name)) => {
            dst.filter(|d| !d.host_network)
                .and_then(|d| d.resolve_named_port(name, protocol))
                == Some(port)
        }
    }
}

pub fn ports_admit(
    ports: &[PortRule],
    dst: Option<&Endpoint>,
    port: u16,
    protocol: Protocol,
) -> bool {
    ports.is_empty()
        || ports
            .iter()
            .any(|r| port_rule_admits(r, dst, port, protocol))
}
