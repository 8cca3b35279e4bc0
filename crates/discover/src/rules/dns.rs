//! Every pod resolves names through the cluster DNS unless its `dnsPolicy`
//! is `None` (its own resolv.conf) or it runs on the host network with the
//! default policy (then it uses the node's resolver).

use crate::{Confidence, Context, Evidence, Peer, ServicePortRef, Sink};

pub const NAME: &str = "dns";

pub fn run(ctx: &Context, sink: &mut Sink) {
    let Some(dns) = ["kube-dns", "coredns", "rke2-coredns-rke2-coredns"]
        .iter()
        .find_map(|name| ctx.service("kube-system", name))
    else {
        return;
    };
    let backends = ctx.backends(dns, ServicePortRef::All);
    for w in &ctx.workloads {
        let policy = w.pod_spec.dns_policy.as_deref().unwrap_or("ClusterFirst");
        let host_network = w.pod_spec.host_network.unwrap_or(false);
        let uses_cluster_dns = match policy {
            "None" => false,
            // With the host's network, plain ClusterFirst falls back to Default.
            "ClusterFirst" => !host_network,
            _ => policy == "ClusterFirstWithHostNet",
        };
        if !uses_cluster_dns {
            continue;
        }
        let field = w.field("dnsPolicy");
        let text = match &w.pod_spec.dns_policy {
            Some(p) => format!("dnsPolicy: {p}"),
            None => "dnsPolicy unset (ClusterFirst): names resolve through kube-system's DNS"
                .to_string(),
        };
        for b in backends
            .iter()
            .filter(|b| b.service_port == 53 && b.workload() != Some(&w.id))
        {
            sink.connect(
                Peer::Workload(w.id.clone()),
                b.peer.clone(),
                b.port,
                b.protocol,
                NAME,
                Confidence::Certain,
                Evidence::at(w.manifest, &field, text.clone()),
            );
        }
    }
}
