//! The `Examples:` section of every command's `--help`, on the homelab
//! example of the repository (`examples/homelab`).

pub const MATRIX: &str = "\
Examples:
  netpol matrix examples/homelab/manifests examples/homelab/generated
  netpol matrix examples/homelab/manifests examples/homelab/generated --summary
  netpol matrix examples/homelab/manifests examples/homelab/generated -o dot | dot -Tsvg > graph.svg
  netpol matrix examples/homelab/manifests examples/homelab/generated -o mermaid --from open-webui
  netpol matrix examples/homelab/manifests examples/homelab/generated --to monitoring/grafana --only denied
  netpol matrix examples/homelab/manifests examples/homelab/generated --from app.kubernetes.io/name=open-webui --port 3000 -o json
  kubectl get ns,pods,deploy,sts,ds,svc,netpol -A -o yaml | netpol matrix - --summary";

pub const EXPLAIN: &str = "\
Examples:
  netpol explain examples/homelab/manifests examples/homelab/generated \\
      --from open-webui/open-webui --to monitoring/grafana --port 3000
  netpol explain examples/homelab/manifests examples/homelab/generated \\
      --from 203.0.113.7 --to svc/ingress-nginx/ingress-nginx-controller --port 443 -o json
  netpol explain cluster.yaml --from web --to db --port 5432 --exit-code || echo denied";

pub const NFT: &str = "\
Examples:
  netpol nft examples/homelab/manifests examples/homelab/generated > netpol.nft
  netpol nft examples/homelab/manifests examples/homelab/generated --node node-1 | nft -c -f -";

pub const PROBE: &str = "\
Examples:
  sudo netpol probe examples/homelab/manifests examples/homelab/generated --compare
  sudo netpol probe cluster.yaml policies/ --timeout 500 > measured.json
  sudo netpol probe examples/homelab/manifests examples/homelab/generated --compare --to monitoring -o table";

pub const DIFF: &str = "\
Examples:
  netpol diff --old manifests --old policies-main --new manifests --new policies-branch
  netpol diff old.yaml new.yaml -o markdown > comment.md
  netpol diff old.yaml new.yaml --exit-code || echo connectivity changed";

pub const LINT: &str = "\
Examples:
  netpol lint examples/homelab/manifests examples/homelab/policies
  netpol lint manifests policies -o sarif > netpol.sarif
  netpol lint manifests policies --fail-on warning";

pub const GEN: &str = "\
Examples:
  netpol gen examples/homelab/flows.yaml examples/homelab/manifests --dir examples/homelab/generated
  netpol gen examples/homelab/flows.yaml examples/homelab/manifests --dir examples/homelab/generated --check";

pub const VERIFY: &str = "\
Examples:
  netpol verify examples/homelab/flows.yaml examples/homelab/manifests examples/homelab/generated
  netpol verify examples/homelab/flows.yaml examples/homelab/manifests examples/homelab/generated --strict -o json";

pub const DISCOVER: &str = "\
Examples:
  netpol discover examples/homelab/manifests --node-cidr 192.168.1.0/24 > flows.yaml
  netpol discover examples/homelab/manifests -o text";

pub const REPORT: &str = "\
Examples:
  netpol report examples/homelab/manifests examples/homelab/generated \\
      --flows examples/homelab/flows.yaml -o report.html
  netpol report manifests policies --namespace-filter monitoring -o monitoring.html
  netpol report manifests policies -o - > report.html";

pub const COMPLETION: &str = "\
Examples:
  netpol completion bash > /etc/bash_completion.d/netpol
  netpol completion zsh > \"${fpath[1]}/_netpol\"
  netpol completion fish > ~/.config/fish/completions/netpol.fish
  netpol completion powershell >> $PROFILE";
