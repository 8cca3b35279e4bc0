"""Helpers for scripts/compare-nca: prepare netpol-synth YAML for
network-config-analyzer (NCA), read both tools' outputs and compare them.

Run with the virtual environment's python (PyYAML comes with NCA).
"""

import csv
import json
import os
import re
import sys
from collections import Counter, defaultdict

import yaml


def _fill_nulls(obj):
    # `metadata:` with nothing under it is null in YAML; Kubernetes treats it
    # as absent, NCA crashes on it.
    if isinstance(obj, dict):
        for k, v in list(obj.items()):
            if v is None and k in ("metadata", "spec", "template", "labels"):
                obj[k] = {}
            else:
                _fill_nulls(v)
    elif isinstance(obj, list):
        for v in obj:
            _fill_nulls(v)


def _drop_ignored_rules(doc):
    # Rules of a direction missing from an explicit policyTypes are ignored by
    # Kubernetes; NCA refuses such a policy, so they are removed (same meaning).
    if doc.get("kind") != "NetworkPolicy":
        return
    spec = doc.get("spec") or {}
    types = spec.get("policyTypes")
    if types is None:
        return
    for direction, field in (("Ingress", "ingress"), ("Egress", "egress")):
        if direction not in types:
            spec.pop(field, None)


def _drop_addresses(doc):
    # NCA models neither pod addresses nor the host network: ipBlocks never
    # match pods there, and host-network pods are ordinary pods. The "common"
    # variant removes both, so that both tools see the same cluster.
    kind = doc.get("kind")
    if kind == "Pod":
        doc.pop("status", None)
    for spec in _pod_specs(doc):
        spec.pop("hostNetwork", None)


def _pod_specs(doc):
    spec = doc.get("spec") or {}
    if doc.get("kind") == "Pod":
        return [spec]
    if doc.get("kind") == "CronJob":
        spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    template = spec.get("template") or {}
    return [template["spec"]] if isinstance(template.get("spec"), dict) else []


def prepare(src, dst, variant="raw"):
    """Copies every YAML file under src to dst in a form NCA accepts;
    variant "common" also removes pod addresses and hostNetwork."""
    for root, _, files in os.walk(src):
        for name in sorted(files):
            if not name.endswith(".yaml"):
                continue
            with open(os.path.join(root, name)) as f:
                docs = [d for d in yaml.safe_load_all(f) if d]
            for d in docs:
                _fill_nulls(d)
                _drop_ignored_rules(d)
                if variant == "common":
                    _drop_addresses(d)
            out = os.path.join(dst, os.path.relpath(root, src))
            os.makedirs(out, exist_ok=True)
            with open(os.path.join(out, name), "w") as f:
                yaml.safe_dump_all(docs, f)


ALL_PROTOCOLS = ("TCP", "UDP", "SCTP")
_WORKLOAD = re.compile(r"^(?P<ns>[^/\s]+)/(?P<name>[^\[\s]+)\[[A-Za-z]+\]$")


def _parse_connections(text):
    """NCA's connection set as a predicate over (port, protocol)."""
    text = text.strip()
    if text == "All connections":
        return lambda port, proto: True
    if text in ("No connections", ""):
        return lambda port, proto: False
    cubes = []
    for body in re.findall(r"\{([^}]*)\}", text):
        fields = dict(
            f.split(":", 1) for f in re.split(r",(?=[a-z_]+:)", body) if ":" in f
        )
        protos = (
            {p.strip() for p in fields["protocols"].split(",")}
            if "protocols" in fields
            else set(ALL_PROTOCOLS)
        )
        ranges = None
        if "dst_ports" in fields:
            ranges = []
            for part in fields["dst_ports"].split(","):
                lo, _, hi = part.strip().partition("-")
                ranges.append((int(lo), int(hi or lo)))
        cubes.append((protos, ranges))
    if not cubes:
        raise ValueError(f"unrecognised NCA connection set: {text!r}")

    def admits(port, proto):
        return any(
            proto in protos and (ranges is None or any(lo <= port <= hi for lo, hi in ranges))
            for protos, ranges in cubes
        )

    return admits


def read_nca(path):
    """NCA's txt_no_fw_rules output: {(src, dst): predicate} between workloads
    (lines with address ranges are left out: netpol's matrix has no such rows)."""
    pairs = {}
    with open(path) as f:
        for line in f:
            if " => " not in line or " : " not in line:
                continue
            ends, conns = line.rstrip("\n").split(" : ", 1)
            src, dst = (e.strip() for e in ends.split(" => ", 1))
            ms, md = _WORKLOAD.match(src), _WORKLOAD.match(dst)
            if not (ms and md):
                continue
            key = (f"{ms['ns']}/{ms['name']}", f"{md['ns']}/{md['name']}")
            # A pair may take several lines, one per part of its connection set.
            pairs.setdefault(key, []).append(_parse_connections(conns))
    return {k: (lambda port, proto, ps=ps: any(p(port, proto) for p in ps)) for k, ps in pairs.items()}


def workloads_of(directory):
    """Every workload id (namespace/name) in the YAML, the host-network ones,
    and the address families of the pods that have addresses."""
    ids, host, families = set(), set(), {}
    for root, _, files in os.walk(directory):
        for name in files:
            if not name.endswith(".yaml"):
                continue
            with open(os.path.join(root, name)) as f:
                for d in yaml.safe_load_all(f):
                    if not d or d.get("kind") in ("Namespace", "Service", "NetworkPolicy"):
                        continue
                    meta = d.get("metadata") or {}
                    wid = f"{meta.get('namespace', 'default')}/{meta.get('name')}"
                    ids.add(wid)
                    if any(s.get("hostNetwork") for s in _pod_specs(d)):
                        host.add(wid)
                    ips = [p.get("ip", "") for p in (d.get("status") or {}).get("podIPs") or []]
                    if ips:
                        families[wid] = {6 if ":" in ip else 4 for ip in ips}
    return ids, host, families


def compare(netpol_csv, nca_txt, yaml_dir, label, netpol_seconds, nca_seconds):
    """Prints agreement counts over netpol's (src, dst, port, protocol) cells."""
    nca = read_nca(nca_txt)
    nca_ids = {w for pair in nca for w in pair}
    ids, host, families = workloads_of(yaml_dir)
    counts = Counter()
    examples = defaultdict(list)
    with open(netpol_csv) as f:
        for row in csv.DictReader(f):
            src, dst = row["src"], row["dst"]
            if src.startswith("external") or dst.startswith("external"):
                # An ipBlock network or the internet as a peer: NCA's address
                # lines are not compared (see read_nca).
                counts["external peer (not compared)"] += 1
                continue
            if src == dst:
                counts["same workload (not in NCA's map)"] += 1
                continue
            port, proto = int(row["port"]), row["protocol"]
            ours = row["allowed"] == "true"
            pred = nca.get((src, dst))
            theirs = bool(pred and pred(port, proto))
            if ours == theirs:
                counts["agree allowed" if ours else "agree denied"] += 1
                continue
            if src in host or dst in host:
                why = "host-network end"
            elif src in families and dst in families and not families[src] & families[dst]:
                # IPv4-only to IPv6-only: no packet can pass whatever the
                # policies say; NCA does not model addresses.
                why = "no address family in common"
            else:
                why = "other"
            kind = f"disagree ({why}): netpol {'allows' if ours else 'denies'}"
            counts[kind] += 1
            if len(examples[kind]) < 5:
                examples[kind].append(f"{src} -> {dst} {port}/{proto}")
    compared = sum(
        v for k, v in counts.items() if not k.startswith(("same", "external"))
    )
    agreed = counts["agree allowed"] + counts["agree denied"]
    print(f"## {label}")
    print(f"workloads in YAML: {len(ids)}; seen in NCA's connectivity map: {len(nca_ids & ids)}")
    for k in sorted(counts):
        print(f"  {k}: {counts[k]}")
    pct = 100.0 * agreed / compared if compared else 100.0
    print(f"  agreement: {agreed}/{compared} cells ({pct:.3f}%)")
    for k, ex in sorted(examples.items()):
        print(f"  e.g. {k}: " + "; ".join(ex))
    n, c = float(netpol_seconds), float(nca_seconds)
    print(f"  time: netpol {n:.3f} s, NCA {c:.1f} s, NCA/netpol = {c / n:.0f}x")
    print(
        json.dumps(
            {
                "label": label,
                "compared": compared,
                "agreed": agreed,
                "netpol_s": n,
                "nca_s": c,
                **{k: v for k, v in counts.items()},
            }
        ),
        file=sys.stderr,
    )


if __name__ == "__main__":
    globals()[sys.argv[1]](*sys.argv[2:])
