mod support;

use support::{fixture, lines, run};

#[test]
fn pods_on_cluster_dns_need_kube_dns_on_udp_and_tcp() {
    let d = run("dns", &fixture("dns/cluster.yaml"));
    assert_eq!(
        lines(&d),
        [
            "shop/agent-cluster-dns -> kube-system/coredns 53/TCP (certain)",
            "shop/agent-cluster-dns -> kube-system/coredns 53/UDP (certain)",
            "shop/web -> kube-system/coredns 53/TCP (certain)",
            "shop/web -> kube-system/coredns 53/UDP (certain)",
        ]
    );
    // dnsPolicy None, host network with the default policy, and CoreDNS
    // itself (dnsPolicy Default) need nothing; the metrics port is not DNS.
    let ev = &d.connections[2].evidence[0];
    assert_eq!(ev.object, "Deployment shop/web");
    assert_eq!(ev.field, "spec.template.spec.dnsPolicy");
    assert!(ev.file.ends_with("dns/cluster.yaml"));
    // No dnsPolicy line: the pod spec it defaults in.
    assert_eq!(ev.line, 34, "{ev:?}");
}
