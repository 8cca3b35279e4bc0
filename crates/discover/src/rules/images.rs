//! Rule 7: needs that no manifest shows but that the software is documented
//! to have, for a small table of well-known images. The table is data: each
//! entry names its image, what tells its components apart, its needs and the
//! upstream documentation they come from. Confidence is `likely`: the image
//! could be configured otherwise, which the manifests may not show.

use k8s_openapi::api::core::v1 as core;
use netpol_model::Protocol;

use super::apiserver::APISERVER_PORT;
use crate::{Confidence, Context, Evidence, Peer, ServicePortRef, Sink, Workload};

pub const NAME: &str = "image";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dst {
    External,
    KubeApiserver,
    /// The kubelets on the nodes' addresses.
    Nodes,
    /// A Service of the workload's own namespace, by the name the software
    /// uses by default; `port` is the Service's port.
    Service(&'static str),
    /// The other way round: the API server calls this workload (an admission
    /// webhook, an aggregated API), on the port the flag sets, else `port`.
    CalledByApiserver {
        flag: &'static str,
    },
}

#[derive(Clone, Copy, Debug)]
pub struct Need {
    pub dst: Dst,
    pub port: u16,
    pub protocol: Protocol,
    pub why: &'static str,
    /// `likely`, or `guess` for a need that depends on configuration the
    /// manifests do not show.
    pub confidence: Confidence,
}

#[derive(Clone, Copy, Debug)]
pub struct Known {
    /// Repositories, without registry and tag (`cloudflare/cloudflared`).
    pub images: &'static [&'static str],
    /// For images that run several programs (Argo CD's one image runs all
    /// its components): a word the container's command, args or name must
    /// contain. Empty: any container of the image.
    pub program: &'static str,
    pub needs: &'static [Need],
    /// The upstream documentation the needs come from.
    pub source: &'static str,
}

const fn need(dst: Dst, port: u16, protocol: Protocol, why: &'static str) -> Need {
    Need {
        dst,
        port,
        protocol,
        why,
        confidence: Confidence::Likely,
    }
}

/// A need only some configurations have.
const fn maybe(need: Need) -> Need {
    Need {
        confidence: Confidence::Guess,
        ..need
    }
}

const API: Need = need(
    Dst::KubeApiserver,
    APISERVER_PORT,
    Protocol::Tcp,
    "watches the Kubernetes API",
);

const ARGO_REPO: Need = need(
    Dst::Service("argocd-repo-server"),
    8081,
    Protocol::Tcp,
    "its default --repo-server, argocd-repo-server:8081",
);

const ARGO_REDIS: Need = need(
    Dst::Service("argocd-redis"),
    6379,
    Protocol::Tcp,
    "its default --redis, argocd-redis:6379",
);

pub const TABLE: &[Known] = &[
    Known {
        images: &["cloudflare/cloudflared"],
        program: "",
        needs: &[
            need(
                Dst::External,
                7844,
                Protocol::Tcp,
                "tunnel to Cloudflare's edge (http2)",
            ),
            need(
                Dst::External,
                7844,
                Protocol::Udp,
                "tunnel to Cloudflare's edge (quic)",
            ),
        ],
        source: "https://developers.cloudflare.com/cloudflare-one/connections/connect-networks/deploy-tunnels/tunnel-with-firewall/",
    },
    Known {
        images: &["jetstack/cert-manager-controller"],
        program: "",
        needs: &[
            need(
                Dst::External,
                443,
                Protocol::Tcp,
                "ACME server and DNS provider APIs",
            ),
            API,
        ],
        source: "https://cert-manager.io/docs/installation/best-practice/#network-requirements",
    },
    Known {
        images: &["jetstack/cert-manager-cainjector"],
        program: "",
        needs: &[API],
        source: "https://cert-manager.io/docs/installation/best-practice/#network-requirements",
    },
    Known {
        images: &["jetstack/cert-manager-webhook"],
        program: "",
        needs: &[
            API,
            need(
                Dst::CalledByApiserver {
                    flag: "--secure-port",
                },
                10250,
                Protocol::Tcp,
                "the API server calls the admission webhook",
            ),
        ],
        source: "https://cert-manager.io/docs/installation/best-practice/#network-requirements",
    },
    Known {
        images: &[
            "metrics-server/metrics-server",
            "rancher/mirrored-metrics-server",
        ],
        program: "",
        needs: &[
            need(
                Dst::Nodes,
                10250,
                Protocol::Tcp,
                "scrapes the kubelets' resource metrics",
            ),
            API,
            need(
                Dst::CalledByApiserver {
                    flag: "--secure-port",
                },
                10250,
                Protocol::Tcp,
                "the API server calls it for metrics.k8s.io (an aggregated API)",
            ),
        ],
        source: "https://github.com/kubernetes-sigs/metrics-server#requirements",
    },
    Known {
        images: &["coredns/coredns", "rancher/mirrored-coredns-coredns"],
        program: "",
        needs: &[
            need(
                Dst::External,
                53,
                Protocol::Udp,
                "forwards other names to the upstream resolvers",
            ),
            need(
                Dst::External,
                53,
                Protocol::Tcp,
                "forwards other names to the upstream resolvers",
            ),
            API,
        ],
        source: "https://coredns.io/plugins/forward/ and https://coredns.io/plugins/kubernetes/",
    },
    Known {
        images: &["argoproj/argocd"],
        program: "argocd-repo-server",
        needs: &[
            need(
                Dst::External,
                443,
                Protocol::Tcp,
                "clones Git repositories and Helm charts over HTTPS",
            ),
            maybe(need(
                Dst::External,
                22,
                Protocol::Tcp,
                "clones Git repositories over SSH",
            )),
            ARGO_REDIS,
        ],
        source: "https://argo-cd.readthedocs.io/en/stable/user-guide/private-repositories/ and https://argo-cd.readthedocs.io/en/stable/operator-manual/server-commands/argocd-repo-server/",
    },
    Known {
        images: &["argoproj/argocd"],
        program: "argocd-application-controller",
        needs: &[API, ARGO_REPO, ARGO_REDIS],
        source: "https://argo-cd.readthedocs.io/en/stable/operator-manual/architecture/ and https://argo-cd.readthedocs.io/en/stable/operator-manual/server-commands/argocd-application-controller/",
    },
    Known {
        images: &["argoproj/argocd"],
        program: "argocd-server",
        needs: &[
            API,
            ARGO_REPO,
            ARGO_REDIS,
            need(
                Dst::Service("argocd-dex-server"),
                5556,
                Protocol::Tcp,
                "its default --dex-server, http://argocd-dex-server:5556",
            ),
        ],
        source: "https://argo-cd.readthedocs.io/en/stable/operator-manual/architecture/ and https://argo-cd.readthedocs.io/en/stable/operator-manual/server-commands/argocd-server/",
    },
    Known {
        images: &["argoproj/argocd"],
        program: "argocd-applicationset-controller",
        needs: &[API, ARGO_REPO],
        source: "https://argo-cd.readthedocs.io/en/stable/operator-manual/applicationset/ and https://argo-cd.readthedocs.io/en/stable/operator-manual/server-commands/argocd-applicationset-controller/",
    },
    Known {
        images: &["argoproj/argocd"],
        program: "argocd-notifications",
        needs: &[API],
        source: "https://argo-cd.readthedocs.io/en/stable/operator-manual/notifications/",
    },
    Known {
        images: &["traefik"],
        program: "",
        needs: &[API],
        source: "https://doc.traefik.io/traefik/providers/kubernetes-ingress/",
    },
    Known {
        images: &["metallb/controller", "metallb/speaker"],
        program: "",
        needs: &[API],
        source: "https://metallb.io/concepts/",
    },
    Known {
        images: &["kiwigrid/k8s-sidecar"],
        program: "",
        needs: &[API],
        source: "https://github.com/kiwigrid/k8s-sidecar#why",
    },
    Known {
        images: &["stakater/reloader"],
        program: "",
        needs: &[API],
        source: "https://github.com/stakater/Reloader#how-does-it-work",
    },
    Known {
        images: &["prometheus/prometheus"],
        program: "",
        needs: &[need(
            Dst::KubeApiserver,
            APISERVER_PORT,
            Protocol::Tcp,
            "finds its targets with kubernetes_sd_configs (as the Prometheus operator configures it)",
        )],
        source: "https://prometheus.io/docs/prometheus/latest/configuration/configuration/#kubernetes_sd_config",
    },
    Known {
        images: &["rancher/local-path-provisioner"],
        program: "",
        needs: &[API],
        source: "https://github.com/rancher/local-path-provisioner#overview",
    },
    Known {
        images: &["headlamp-k8s/headlamp"],
        program: "",
        needs: &[API],
        source: "https://headlamp.dev/docs/latest/installation/in-cluster/",
    },
    Known {
        images: &["ingress-nginx/controller"],
        program: "",
        needs: &[API],
        source: "https://kubernetes.github.io/ingress-nginx/how-it-works/",
    },
    Known {
        images: &["prometheus-operator/prometheus-operator"],
        program: "",
        needs: &[API],
        source: "https://prometheus-operator.dev/docs/getting-started/design/",
    },
    Known {
        images: &["kube-state-metrics/kube-state-metrics"],
        program: "",
        needs: &[API],
        source: "https://github.com/kubernetes/kube-state-metrics#overview",
    },
    Known {
        images: &[
            "bitnami/sealed-secrets-controller",
            "bitnami-labs/sealed-secrets-controller",
        ],
        program: "",
        needs: &[API],
        source: "https://github.com/bitnami-labs/sealed-secrets#overview",
    },
];

/// `quay.io/argoproj/argocd:v3.3.6` -> `argoproj/argocd`: the registry (a
/// first part with a dot, a colon or `localhost`), the tag and digest, and
/// Docker Hub's `library/` go.
pub fn repository(image: &str) -> String {
    let image = image.split('@').next().unwrap_or(image);
    let mut parts: Vec<&str> = image.split('/').collect();
    if let Some(last) = parts.last_mut() {
        *last = last.split(':').next().unwrap_or(last);
    }
    if parts.len() > 1 && (parts[0].contains(['.', ':']) || parts[0] == "localhost") {
        parts.remove(0);
    }
    if parts.len() > 1 && parts[0] == "library" {
        parts.remove(0);
    }
    parts.join("/").to_ascii_lowercase()
}

fn runs(c: &core::Container, program: &str) -> bool {
    program.is_empty()
        || c.name == program
        || c.command
            .iter()
            .chain(c.args.iter())
            .flatten()
            .any(|a| a.contains(program))
}

/// Where a need goes, with the port its receiver sees. A default Service
/// name that the input does not have proposes nothing: the chart named it
/// otherwise, and then its configuration (rule env-url) says where.
fn destinations(
    ctx: &Context,
    w: &Workload,
    c: &core::Container,
    n: &Need,
) -> Vec<(Peer, Peer, u16)> {
    let me = || Peer::Workload(w.id.clone());
    let to = |list: Vec<(Peer, u16)>| list.into_iter().map(|(d, p)| (me(), d, p)).collect();
    match n.dst {
        Dst::CalledByApiserver { flag } => {
            let port = c
                .command
                .iter()
                .chain(c.args.iter())
                .flatten()
                .find_map(|a| a.strip_prefix(flag)?.strip_prefix('=')?.parse().ok())
                .unwrap_or(n.port);
            vec![(Peer::KubeApiserver, me(), port)]
        }
        _ => to(destinations_from(ctx, w, n)),
    }
}

fn destinations_from(ctx: &Context, w: &Workload, n: &Need) -> Vec<(Peer, u16)> {
    match n.dst {
        Dst::CalledByApiserver { .. } => Vec::new(),
        Dst::External => vec![(Peer::External, n.port)],
        Dst::KubeApiserver => vec![(Peer::KubeApiserver, n.port)],
        Dst::Nodes => vec![(Peer::Nodes, n.port)],
        Dst::Service(name) => match ctx.service(&w.namespace, name) {
            Some(s) => ctx
                .backends(s, ServicePortRef::Number(n.port))
                .into_iter()
                .filter(|b| b.protocol == n.protocol && b.workload() != Some(&w.id))
                .map(|b| (b.peer, b.port))
                .collect(),
            None => Vec::new(),
        },
    }
}

pub fn run(ctx: &Context, sink: &mut Sink) {
    for w in &ctx.workloads {
        for (path, c) in w.containers() {
            let Some(image) = c.image.as_deref() else {
                continue;
            };
            let repo = repository(image);
            for known in TABLE {
                if !known.images.contains(&repo.as_str()) || !runs(c, known.program) {
                    continue;
                }
                let field = w.field(&format!("{path}.image"));
                for n in known.needs {
                    let evidence = Evidence::at(
                        w.manifest,
                        &field,
                        format!("{image}: {} ({})", n.why, known.source),
                    );
                    for (src, dst, port) in destinations(ctx, w, c, n) {
                        sink.connect(
                            src,
                            dst,
                            port,
                            n.protocol,
                            NAME,
                            n.confidence,
                            evidence.clone(),
                        );
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repositories_lose_registry_tag_and_library() {
        assert_eq!(
            repository("quay.io/argoproj/argocd:v3.3.6"),
            "argoproj/argocd"
        );
        assert_eq!(
            repository("cloudflare/cloudflared:2026.5.0"),
            "cloudflare/cloudflared"
        );
        assert_eq!(repository("docker.io/library/redis@sha256:ab"), "redis");
        assert_eq!(repository("localhost:5000/x/y:1"), "x/y");
        assert_eq!(repository("redis"), "redis");
    }
}
