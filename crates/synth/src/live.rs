//! A cluster as a live dump shows it: every workload runs as pods with their
//! own addresses and nodes, owned (through ReplicaSets and Jobs where
//! Kubernetes puts them) by their controllers, as
//! `kubectl get namespaces,pods,services,networkpolicies,deployments,... -A -o yaml`
//! gives them.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use netpol_model::{Cluster, Endpoint, Labels, WorkloadKind};

use crate::emit::{self, File};

/// Pods per node, about what a real cluster runs (the kubelet's default cap is 110).
const PODS_PER_NODE: usize = 100;
/// The workload-level generator places pods on this many nodes.
const MIN_NODES: usize = 4;
/// Characters Kubernetes uses in generated name suffixes.
const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// How one workload of the template-level cluster runs.
struct Workload<'c> {
    /// The workload as generated (its pod template).
    template: &'c Endpoint,
    /// The kind it runs as: a bare Pod becomes a Deployment, since a live
    /// cluster's replicated pods have a controller.
    kind: WorkloadKind,
    /// The object owning the pods directly, when not the workload itself:
    /// a Deployment's ReplicaSet, a CronJob's Job.
    intermediate: Option<(WorkloadKind, String)>,
    pods: Vec<Endpoint>,
}

/// `replicas` pods for every workload of `cluster` (the output of
/// [`crate::generate`]), as the loader reads them from [`to_live_files`]:
/// Pod endpoints, each mapped to its workload in `workload_of`.
pub fn live(cluster: &Cluster, replicas: usize) -> Cluster {
    let mut out = Cluster {
        namespaces: cluster.namespaces.clone(),
        services: cluster.services.clone(),
        policies: cluster.policies.clone(),
        ..Cluster::default()
    };
    for w in plan(cluster, replicas) {
        let workload = format!("{}/{}", w.template.namespace, w.template.name);
        for p in w.pods {
            out.workload_of.insert(p.id(), workload.clone());
            out.endpoints.push(p);
        }
    }
    out.normalize();
    out
}

/// Which fields a live dump's Pods are written with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PodFields {
    /// Those netpol reads, and the ones that identify a Pod (its uid).
    #[default]
    Minimal,
    /// Every field `kubectl get pods -o yaml` shows for such a Pod (its
    /// default output, without `managedFields`): about four times the text
    /// for the same model.
    Kubectl,
}

/// The live dump of [`live`]: the template-level files without their
/// workloads, then per namespace `NS/controllers.yaml` (Deployments,
/// ReplicaSets, StatefulSets, DaemonSets, Jobs, CronJobs) and `NS/pods.yaml`
/// (a `List`, as `kubectl get pods -o yaml` prints).
pub fn to_live_files(cluster: &Cluster, replicas: usize) -> Vec<File> {
    to_live_files_with(cluster, replicas, PodFields::Minimal)
}

/// [`to_live_files`], with the Pods written with `fields`.
pub fn to_live_files_with(cluster: &Cluster, replicas: usize, fields: PodFields) -> Vec<File> {
    let without_workloads = Cluster {
        endpoints: Vec::new(),
        ..cluster.clone()
    };
    let mut files = emit::to_files(&without_workloads);
    let mut by_ns: BTreeMap<&str, (String, String)> = BTreeMap::new();
    let plan = plan(cluster, replicas);
    for w in &plan {
        let (controllers, pods) = by_ns.entry(&w.template.namespace).or_default();
        write_controllers(controllers, w, replicas);
        for p in &w.pods {
            let owner = match &w.intermediate {
                Some((kind, name)) => (*kind, name.as_str()),
                None => (w.kind, w.template.name.as_str()),
            };
            list_item(pods, &pod_document(p, owner, fields));
        }
    }
    for (ns, (controllers, pods)) in by_ns {
        files.push(File {
            path: format!("{ns}/controllers.yaml").into(),
            text: format!("{}\n{controllers}", emit::HEADER),
        });
        files.push(File {
            path: format!("{ns}/pods.yaml").into(),
            text: format!(
                "{}\napiVersion: v1\nitems:\n{pods}kind: List\nmetadata:\n  resourceVersion: \"\"\n",
                emit::HEADER
            ),
        });
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    files
}

fn plan(cluster: &Cluster, replicas: usize) -> Vec<Workload<'_>> {
    let replicas = replicas.max(1);
    let nodes = (cluster.endpoints.len() * replicas)
        .div_ceil(PODS_PER_NODE)
        .max(MIN_NODES);
    cluster
        .endpoints
        .iter()
        .enumerate()
        .map(|(j, e)| {
            let kind = match e.kind {
                WorkloadKind::Pod => WorkloadKind::Deployment,
                k => k,
            };
            let hash = suffix(j as u64, 10);
            let intermediate = match kind {
                WorkloadKind::Deployment => {
                    Some((WorkloadKind::ReplicaSet, format!("{}-{hash}", e.name)))
                }
                WorkloadKind::CronJob => {
                    Some((WorkloadKind::Job, format!("{}-{}", e.name, 29_000_000 + j)))
                }
                _ => None,
            };
            let pods = (0..replicas)
                .map(|r| {
                    let name = match (kind, &intermediate) {
                        (WorkloadKind::StatefulSet, _) => format!("{}-{r}", e.name),
                        (_, Some((_, owner))) => {
                            format!("{owner}-{}", suffix((j * replicas + r) as u64, 5))
                        }
                        _ => format!("{}-{}", e.name, suffix((j * replicas + r) as u64, 5)),
                    };
                    let mut labels = e.labels.clone();
                    extra_labels(&mut labels, kind, &e.name, &name, r, &hash, &intermediate);
                    let node = match &e.node {
                        Some(n) if r == 0 => n
                            .strip_prefix("node-")
                            .and_then(|k| k.parse().ok())
                            .unwrap_or(0),
                        _ => (j * 31 + r) % nodes,
                    };
                    let ips = if e.host_network {
                        vec![node_ip(node)]
                    } else {
                        pod_ips(e, j, r)
                    };
                    Endpoint {
                        namespace: e.namespace.clone(),
                        name,
                        kind: WorkloadKind::Pod,
                        labels,
                        annotations: Labels::new(),
                        ports: e.ports.clone(),
                        ips,
                        host_network: e.host_network,
                        node: Some(format!("node-{node}")),
                        host_ip: Some(node_ip(node)),
                        replicas: Some(1),
                        origin: e.origin.clone(),
                    }
                })
                .collect();
            Workload {
                template: e,
                kind,
                intermediate,
                pods,
            }
        })
        .collect()
}

/// The labels controllers add to their pods.
fn extra_labels(
    labels: &mut Labels,
    kind: WorkloadKind,
    workload: &str,
    pod: &str,
    r: usize,
    hash: &str,
    intermediate: &Option<(WorkloadKind, String)>,
) {
    let mut add = |k: &str, v: &str| {
        labels.insert(k.to_string(), v.to_string());
    };
    match kind {
        WorkloadKind::Deployment => add("pod-template-hash", hash),
        WorkloadKind::StatefulSet => {
            // Unique per pod: each StatefulSet pod is a class of its own.
            add("controller-revision-hash", &format!("{workload}-{hash}"));
            add("statefulset.kubernetes.io/pod-name", pod);
            add("apps.kubernetes.io/pod-index", &r.to_string());
        }
        WorkloadKind::DaemonSet => {
            add("controller-revision-hash", hash);
            add("pod-template-generation", "1");
        }
        WorkloadKind::Job | WorkloadKind::CronJob => {
            let job = intermediate.as_ref().map_or(workload, |(_, n)| n);
            add("job-name", job);
            add("batch.kubernetes.io/job-name", job);
        }
        _ => {}
    }
}

/// Replica 0 keeps the generated addresses (which the generated ipBlocks
/// are cut around); others get addresses of their own in the same families.
fn pod_ips(e: &Endpoint, j: usize, r: usize) -> Vec<IpAddr> {
    if e.ips.is_empty() {
        let base = u32::from(Ipv4Addr::new(10, 160, 0, 1));
        return vec![IpAddr::V4(Ipv4Addr::from(
            base + ((r as u32) << 16) + j as u32,
        ))];
    }
    if r == 0 {
        return e.ips.clone();
    }
    e.ips
        .iter()
        .map(|ip| match ip {
            IpAddr::V4(v4) => IpAddr::V4(Ipv4Addr::from(u32::from(*v4) + ((r as u32) << 16))),
            IpAddr::V6(v6) => {
                let mut s = v6.segments();
                s[6] = r as u16;
                IpAddr::V6(Ipv6Addr::from(s))
            }
        })
        .collect()
}

/// As the template-level generator numbers nodes: 192.168.0.10 and up.
fn node_ip(node: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(
        u32::from(Ipv4Addr::new(192, 168, 0, 10)) + node as u32,
    ))
}

/// A deterministic name suffix in Kubernetes' alphabet.
fn suffix(mut n: u64, len: usize) -> String {
    n = n.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x5bd1_e995;
    (0..len)
        .map(|_| {
            let c = ALPHABET[(n % ALPHABET.len() as u64) as usize] as char;
            n /= ALPHABET.len() as u64;
            if n == 0 {
                n = 0x2545_f491_4f6c_dd1d;
            }
            c
        })
        .collect()
}

/// FNV-1a: stable across runs and platforms.
fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn uid(kind: WorkloadKind, namespace: &str, name: &str) -> String {
    let h = fnv(&format!("{}{namespace}/{name}", kind.as_str()));
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        h >> 32,
        (h >> 16) & 0xffff,
        h & 0xfff,
        (h >> 20) & 0xfff,
        h & 0xffff_ffff_ffff
    )
}

fn api_version(kind: WorkloadKind) -> &'static str {
    match kind {
        WorkloadKind::Pod | WorkloadKind::ReplicationController => "v1",
        WorkloadKind::Job | WorkloadKind::CronJob => "batch/v1",
        _ => "apps/v1",
    }
}

pub(crate) fn owner_references(
    out: &mut String,
    indent: usize,
    namespace: &str,
    owner: (WorkloadKind, &str),
) {
    let p = " ".repeat(indent);
    let (kind, name) = owner;
    let _ = write!(
        out,
        "{p}ownerReferences:\n{p}- apiVersion: {}\n{p}  blockOwnerDeletion: true\n{p}  controller: true\n{p}  kind: {}\n{p}  name: \"{name}\"\n{p}  uid: {}\n",
        api_version(kind),
        kind.as_str(),
        uid(kind, namespace, name)
    );
}

/// The workload's controller, and the ReplicaSet or Job between it and its pods.
fn write_controllers(out: &mut String, w: &Workload, replicas: usize) {
    let e = w.template;
    let template = |kind: WorkloadKind, name: &str, labels: Labels| Endpoint {
        name: name.to_string(),
        kind,
        labels,
        node: None,
        ips: Vec::new(),
        host_ip: None,
        replicas: Some(replicas as u32),
        ..e.clone()
    };
    // The controller's pod template has the workload's labels only.
    emit::endpoint_with_owner(out, &template(w.kind, &e.name, e.labels.clone()), None);
    let Some((kind, name)) = &w.intermediate else {
        return;
    };
    let mut labels = e.labels.clone();
    if let Some(p) = w.pods.first() {
        // The labels the ReplicaSet or Job stamps on its pods.
        for (k, v) in &p.labels {
            if !e.labels.contains_key(k) && k != "apps.kubernetes.io/pod-index" {
                labels.insert(k.clone(), v.clone());
            }
        }
    }
    emit::endpoint_with_owner(
        out,
        &template(*kind, name, labels),
        Some((w.kind, e.name.as_str())),
    );
}

fn pod_document(p: &Endpoint, owner: (WorkloadKind, &str), fields: PodFields) -> String {
    let kubectl = fields == PodFields::Kubectl;
    let mut out = String::new();
    let _ = write!(
        out,
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: \"{}\"\n  namespace: \"{}\"\n",
        p.name, p.namespace
    );
    if kubectl {
        let generated = p.name.rsplit_once('-').map_or("", |(g, _)| g);
        let _ = write!(
            out,
            "  creationTimestamp: \"{STARTED}:00Z\"\n  generateName: \"{generated}-\"\n  resourceVersion: \"{}\"\n",
            fnv(&p.name) % 100_000_000
        );
    }
    emit::labels(&mut out, 2, "labels", &p.labels);
    owner_references(&mut out, 2, &p.namespace, owner);
    let _ = writeln!(
        out,
        "  uid: {}",
        uid(WorkloadKind::Pod, &p.namespace, &p.name)
    );
    out.push_str("spec:\n");
    if kubectl {
        let volume = format!("kube-api-access-{}", suffix(fnv(&p.name), 5));
        out.push_str(&KUBECTL_SPEC.replace("VOLUME", &volume));
        let fields = |out: &mut String, pad: &str| {
            for line in KUBECTL_CONTAINER.replace("VOLUME", &volume).lines() {
                let _ = writeln!(out, "{pad}{line}");
            }
        };
        emit::pod_spec_with(&mut out, 2, p, &fields);
    } else {
        emit::pod_spec(&mut out, 2, p);
    }
    out.push_str("status:\n");
    if kubectl {
        kubectl_status(&mut out, p);
    }
    if let Some(h) = p.host_ip {
        let _ = writeln!(out, "  hostIP: \"{h}\"");
    }
    out.push_str("  phase: Running\n");
    if let Some(first) = p.ips.first() {
        let _ = writeln!(out, "  podIP: \"{first}\"\n  podIPs:");
        for ip in &p.ips {
            let _ = writeln!(out, "  - ip: \"{ip}\"");
        }
    }
    out
}

/// When the generated pods started, to the minute.
const STARTED: &str = "2026-11-20T10:00";

/// The pod-level fields the API server fills in (defaults, the service
/// account's token volume), as `kubectl get pods -o yaml` shows them.
const KUBECTL_SPEC: &str = "  dnsPolicy: ClusterFirst
  enableServiceLinks: true
  preemptionPolicy: PreemptLowerPriority
  priority: 0
  restartPolicy: Always
  schedulerName: default-scheduler
  securityContext: {}
  serviceAccount: default
  serviceAccountName: default
  terminationGracePeriodSeconds: 30
  tolerations:
  - effect: NoExecute
    key: node.kubernetes.io/not-ready
    operator: Exists
    tolerationSeconds: 300
  - effect: NoExecute
    key: node.kubernetes.io/unreachable
    operator: Exists
    tolerationSeconds: 300
  volumes:
  - name: VOLUME
    projected:
      defaultMode: 420
      sources:
      - serviceAccountToken:
          expirationSeconds: 3607
          path: token
      - configMap:
          items:
          - key: ca.crt
            path: ca.crt
          name: kube-root-ca.crt
      - downwardAPI:
          items:
          - fieldRef:
              apiVersion: v1
              fieldPath: metadata.namespace
            path: namespace
";

/// The same for each container.
const KUBECTL_CONTAINER: &str = "imagePullPolicy: IfNotPresent
resources:
  limits:
    memory: 256Mi
  requests:
    cpu: 100m
    memory: 128Mi
terminationMessagePath: /dev/termination-log
terminationMessagePolicy: File
volumeMounts:
- mountPath: /var/run/secrets/kubernetes.io/serviceaccount
  name: VOLUME
  readOnly: true
";

/// The status fields of a running pod besides its addresses: conditions,
/// container statuses, host addresses, QoS class, start time.
fn kubectl_status(out: &mut String, p: &Endpoint) {
    out.push_str("  conditions:\n");
    for (i, kind) in [
        "PodReadyToStartContainers",
        "Initialized",
        "Ready",
        "ContainersReady",
        "PodScheduled",
    ]
    .iter()
    .enumerate()
    {
        let _ = write!(
            out,
            "  - lastProbeTime: null\n    lastTransitionTime: \"{STARTED}:0{i}Z\"\n    status: \"True\"\n    type: {kind}\n"
        );
    }
    out.push_str("  containerStatuses:\n");
    let id = |seed: &str| {
        (0..4)
            .map(|k| format!("{:016x}", fnv(&format!("{seed}{k}"))))
            .collect::<String>()
    };
    let _ = write!(
        out,
        "  - containerID: containerd://{}\n    image: registry.example/main:1\n    imageID: registry.example/main@sha256:{}\n    lastState: {{}}\n    name: main\n    ready: true\n    restartCount: 0\n    started: true\n    state:\n      running:\n        startedAt: \"{STARTED}:04Z\"\n",
        id(&p.name),
        id("main")
    );
    if let Some(h) = p.host_ip {
        let _ = write!(out, "  hostIPs:\n  - ip: \"{h}\"\n");
    }
    let _ = write!(
        out,
        "  qosClass: Burstable\n  startTime: \"{STARTED}:00Z\"\n"
    );
}

/// A document as an item of a `List`'s `items`.
fn list_item(out: &mut String, doc: &str) {
    for (i, line) in doc.lines().enumerate() {
        out.push_str(if i == 0 { "- " } else { "  " });
        out.push_str(line);
        out.push('\n');
    }
}
