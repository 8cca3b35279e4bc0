//! Which connections the flows ask for: the reference `verify` holds the
//! policies' verdicts against.

use std::collections::BTreeMap;

use netpol_model::Protocol;

use super::{Destinations, Expansion, PortSel, Sources};

impl Expansion<'_> {
    /// Per flow: which endpoints it covers as a source (pods it means, or
    /// pods whose address is in its blocks) and, per destination endpoint,
    /// the ports. The reference for "is this connection asked for?".
    pub fn coverage(&self) -> &Coverage {
        self.coverage.get_or_init(|| self.build_coverage())
    }

    fn build_coverage(&self) -> Coverage {
        let n = self.cluster.endpoints.len();
        let mut flows = Vec::new();
        for f in &self.expanded {
            let mut src = vec![false; n];
            match &f.sources {
                Sources::Pods(set) => set
                    .endpoints
                    .iter()
                    .chain(&set.host_network)
                    .for_each(|&i| src[i] = true),
                Sources::Addresses { blocks } => {
                    for (i, e) in self.cluster.endpoints.iter().enumerate() {
                        src[i] = e
                            .ips
                            .iter()
                            .any(|ip| blocks.iter().any(|b| b.contains(*ip)));
                    }
                }
            }
            let mut dst: BTreeMap<usize, Vec<PortSel>> = BTreeMap::new();
            match &f.destinations {
                Destinations::Pods {
                    members,
                    host_members,
                    ..
                } => {
                    for m in members.iter().chain(host_members) {
                        dst.insert(m.endpoint, m.ports.clone());
                    }
                }
                Destinations::Addresses { blocks, ports } => {
                    for (i, e) in self.cluster.endpoints.iter().enumerate() {
                        if e.ips
                            .iter()
                            .any(|ip| blocks.iter().any(|b| b.contains(*ip)))
                        {
                            dst.insert(i, ports.clone());
                        }
                    }
                }
            }
            flows.push((src, dst));
        }
        Coverage { flows }
    }

    /// Whether the policies netpol manages could restrict `src -> dst`: the
    /// destination's ingress, or with egress isolation the source's egress.
    /// Host-network pods are never isolated, so they cannot be the one side.
    pub fn in_scope(&self, src: usize, dst: usize) -> bool {
        self.restrictable(dst) || (self.flows.egress() && self.restrictable(src))
    }

    /// Whether the managed policies can isolate endpoint `i` (in some direction).
    pub fn restrictable(&self, i: usize) -> bool {
        let e = &self.cluster.endpoints[i];
        self.flows.managed(&e.namespace) && !e.host_network
    }
}

/// One flow's reach: which endpoints it covers as a source, and per
/// destination endpoint the ports.
type FlowReach = (Vec<bool>, BTreeMap<usize, Vec<PortSel>>);

pub struct Coverage {
    flows: Vec<FlowReach>,
}

impl Coverage {
    /// Whether flow `flow` covers endpoint `src` as a source.
    pub fn covers_source(&self, flow: usize, src: usize) -> bool {
        self.flows[flow].0[src]
    }

    /// Whether flow `flow` asks for `dst:port/protocol`.
    pub fn covers_destination(
        &self,
        flow: usize,
        dst: usize,
        port: u16,
        protocol: Protocol,
    ) -> bool {
        self.flows[flow]
            .1
            .get(&dst)
            .is_some_and(|ports| ports.iter().any(|p| p.admits(port, protocol)))
    }

    /// Whether some flow asks for `src -> dst:port/protocol`.
    pub fn covers(&self, src: usize, dst: usize, port: u16, protocol: Protocol) -> bool {
        (0..self.flows.len())
            .any(|k| self.covers_source(k, src) && self.covers_destination(k, dst, port, protocol))
    }

    /// Per flow, per group of endpoints (a class's members): whether the
    /// flow covers every one of them as a source.
    pub fn covers_groups(&self, groups: &[Vec<u32>]) -> Vec<Vec<bool>> {
        self.flows
            .iter()
            .map(|(src, _)| {
                groups
                    .iter()
                    .map(|g| g.iter().all(|&i| src[i as usize]))
                    .collect()
            })
            .collect()
    }

    /// Indexes of the flows asking for connections to `dst:port/protocol`.
    pub fn flows_to(&self, dst: usize, port: u16, protocol: Protocol) -> Vec<usize> {
        (0..self.flows.len())
            .filter(|&k| self.covers_destination(k, dst, port, protocol))
            .collect()
    }
}
