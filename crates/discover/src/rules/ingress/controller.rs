//! Which workloads are the ingress controller for a class: from the
//! IngressClass's `spec.controller`, matched to a workload by its flags
//! (`--controller-class`, `--ingress-class`, Traefik's
//! `--providers.kubernetesingress`), its image or, weakest, its labels.

use crate::{Confidence, Context, Evidence, Workload};

/// A workload that serves a class, how sure we are, and what says so.
#[derive(Clone, Debug)]
pub struct Controller {
    pub workload: String,
    pub confidence: Confidence,
    pub evidence: Evidence,
}

/// What an IngressClass (or a legacy class name) asks for.
pub struct Class<'a> {
    /// The class name (`ingressClassName`, or the legacy annotation).
    pub name: Option<&'a str>,
    /// The IngressClass's `spec.controller`, when the object is in the input.
    pub controller: Option<&'a str>,
}

/// Controllers the rule knows by their image and labels, with the
/// `spec.controller` value and conventional class names they document.
struct Known {
    controller: &'static str,
    class_names: &'static [&'static str],
    /// The image repository's last path segment (or its ending).
    image: fn(&str) -> bool,
    /// `app.kubernetes.io/name` (or `app`) values of the controller pods.
    label_names: &'static [&'static str],
}

pub const NGINX: &str = "k8s.io/ingress-nginx";
pub const TRAEFIK: &str = "traefik.io/ingress-controller";

const KNOWN: &[Known] = &[
    Known {
        controller: NGINX,
        class_names: &["nginx"],
        image: |repo| {
            repo.ends_with("ingress-nginx/controller") || repo.ends_with("nginx-ingress-controller")
        },
        label_names: &["ingress-nginx"],
    },
    Known {
        controller: TRAEFIK,
        class_names: &["traefik"],
        image: is_traefik_image,
        label_names: &["traefik"],
    },
    Known {
        controller: "haproxy.org/ingress-controller",
        class_names: &["haproxy"],
        image: |repo| repo.ends_with("haproxytech/kubernetes-ingress"),
        label_names: &["kubernetes-ingress"],
    },
];

fn is_traefik_image(repo: &str) -> bool {
    let last = repo.rsplit('/').next().unwrap_or(repo);
    last == "traefik" || last.ends_with("-traefik")
}

/// `registry/path/name` without tag or digest.
fn repository(image: &str) -> &str {
    let image = image.split('@').next().unwrap_or(image);
    match image.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => repo,
        _ => image,
    }
}

/// The flags of a workload's regular containers (command and args), each
/// with the field it sits in.
pub fn flags(w: &Workload) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (ci, c) in w.pod_spec.containers.iter().enumerate() {
        for (key, list) in [("command", &c.command), ("args", &c.args)] {
            for (ai, a) in list.iter().flatten().enumerate() {
                out.push((w.field(&format!("containers[{ci}].{key}[{ai}]")), a.clone()));
            }
        }
    }
    out
}

/// The value of `--name=value` (or `--name value`'s absence: `Some("")` for a bare `--name`).
pub fn flag<'f>(flags: &'f [(String, String)], name: &str) -> Option<(&'f str, &'f str)> {
    flags.iter().find_map(|(field, arg)| {
        let rest = arg
            .trim()
            .strip_prefix("--")
            .or_else(|| arg.trim().strip_prefix('-'))?;
        if rest == name {
            Some((field.as_str(), ""))
        } else {
            rest.strip_prefix(name)?
                .strip_prefix('=')
                .map(|v| (field.as_str(), v.trim_matches('"')))
        }
    })
}

/// A Traefik provider switched on: `--providers.NAME` (or `=true`), or any
/// of its options, which enable it too.
pub fn provider<'f>(flags: &'f [(String, String)], name: &str) -> Option<(&'f str, &'f str)> {
    let name = format!("providers.{name}");
    flag(flags, &name)
        .filter(|(_, v)| *v != "false")
        .or_else(|| {
            let prefix = format!("--{name}.");
            flags
                .iter()
                .find(|(_, a)| a.trim().starts_with(&prefix))
                .map(|(f, _)| (f.as_str(), ""))
        })
}

fn image_match(w: &Workload) -> Option<(&'static Known, String, String)> {
    for (ci, c) in w.pod_spec.containers.iter().enumerate() {
        let Some(image) = &c.image else { continue };
        if let Some(k) = KNOWN.iter().find(|k| (k.image)(repository(image))) {
            return Some((
                k,
                w.field(&format!("containers[{ci}].image")),
                image.clone(),
            ));
        }
    }
    None
}

fn label_match(w: &Workload) -> Option<&'static Known> {
    let name = w
        .labels
        .get("app.kubernetes.io/name")
        .or_else(|| w.labels.get("app"))?;
    // A chart's webhook/cert jobs share the name label; only its controller serves.
    let component = w.labels.get("app.kubernetes.io/component");
    if component.is_some_and(|c| c != "controller") {
        return None;
    }
    KNOWN
        .iter()
        .find(|k| k.label_names.contains(&name.as_str()))
}

/// How `w` serves `class`, if it does.
fn serves(w: &Workload, class: &Class) -> Option<Controller> {
    let flags = flags(w);
    let ev = |field: &str, text: &str| Evidence::at(w.manifest, field, text.to_string());
    let found = |confidence, evidence| {
        Some(Controller {
            workload: w.id.clone(),
            confidence,
            evidence,
        })
    };
    let image = image_match(w);
    let traefik = image
        .as_ref()
        .is_some_and(|(k, ..)| k.controller == TRAEFIK)
        || provider(&flags, "kubernetesingress").is_some();
    if traefik {
        // Traefik takes the controller value as fixed and filters by class name.
        let Some((field, v)) = provider(&flags, "kubernetesingress") else {
            let has_providers = flags.iter().any(|(_, a)| a.contains("--providers."));
            // Without provider flags its static config is a file we cannot read.
            return match (&image, has_providers, class.controller) {
                (Some((_, field, text)), false, Some(TRAEFIK) | None) => {
                    found(Confidence::Likely, ev(field, text))
                }
                _ => None,
            };
        };
        if v == "false" {
            return None;
        }
        if let Some((f, wanted)) = flag(&flags, "providers.kubernetesingress.ingressclass") {
            return (class.name == Some(wanted))
                .then(|| {
                    found(
                        Confidence::Certain,
                        ev(
                            f,
                            &format!("--providers.kubernetesingress.ingressclass={wanted}"),
                        ),
                    )
                })
                .flatten();
        }
        return match class.controller {
            Some(TRAEFIK) => found(Confidence::Certain, ev(field, &flags_text(&flags, field))),
            Some(_) => None,
            None if class.name.is_none_or(|n| n == "traefik") => {
                found(Confidence::Certain, ev(field, &flags_text(&flags, field)))
            }
            None => None,
        };
    }
    if let Some((field, value)) = flag(&flags, "controller-class") {
        if let Some(controller) = class.controller {
            return (controller == value)
                .then(|| {
                    found(
                        Confidence::Certain,
                        ev(field, &format!("--controller-class={value}")),
                    )
                })
                .flatten();
        }
    }
    if class.controller.is_none() {
        // A legacy class name: the controllers that claim it by flag.
        if let (Some(name), Some((field, value))) = (class.name, flag(&flags, "ingress-class")) {
            return (name == value)
                .then(|| {
                    found(
                        Confidence::Certain,
                        ev(field, &format!("--ingress-class={value}")),
                    )
                })
                .flatten();
        }
    }
    let claims = |k: &Known| match (class.controller, class.name) {
        (Some(c), _) => c == k.controller,
        (None, Some(n)) => k.class_names.contains(&n),
        (None, None) => false,
    };
    if let Some((k, field, text)) = &image {
        if claims(k) {
            let confidence =
                if flag(&flags, "controller-class").is_none() && class.controller.is_some() {
                    // The image's documented default controller value.
                    Confidence::Certain
                } else {
                    Confidence::Likely
                };
            return found(confidence, ev(field, text));
        }
        return None;
    }
    if let Some(k) = label_match(w) {
        if claims(k) {
            let text = format!("labels name {}", k.label_names[0]);
            return found(Confidence::Likely, ev(&labels_field(w), &text));
        }
    }
    None
}

fn flags_text(flags: &[(String, String)], field: &str) -> String {
    flags
        .iter()
        .find(|(f, _)| f == field)
        .map(|(_, a)| a.clone())
        .unwrap_or_default()
}

fn labels_field(w: &Workload) -> String {
    w.pod_metadata_field("labels")
}

/// Every workload that serves `class`. When some are identified for certain,
/// the conventional matches are dropped: the flags decide.
pub fn controllers(ctx: &Context, class: &Class) -> Vec<Controller> {
    let mut out: Vec<Controller> = ctx
        .workloads
        .iter()
        .filter_map(|w| serves(w, class))
        .collect();
    if out.iter().any(|c| c.confidence == Confidence::Certain) {
        out.retain(|c| c.confidence == Confidence::Certain);
    }
    out
}

/// Controllers that take Ingresses without any class (no default IngressClass
/// either): Traefik does; ingress-nginx with `--watch-ingress-without-class`.
pub fn classless(ctx: &Context) -> Vec<Controller> {
    let mut out = Vec::new();
    for w in &ctx.workloads {
        let flags = flags(w);
        let pick = flag(&flags, "watch-ingress-without-class")
            .filter(|(_, v)| *v != "false")
            .or_else(|| provider(&flags, "kubernetesingress"));
        if let Some((field, _)) = pick {
            if flag(&flags, "providers.kubernetesingress.ingressclass").is_some() {
                continue;
            }
            out.push(Controller {
                workload: w.id.clone(),
                confidence: Confidence::Certain,
                evidence: Evidence::at(w.manifest, field, flags_text(&flags, field)),
            });
        }
    }
    out
}
