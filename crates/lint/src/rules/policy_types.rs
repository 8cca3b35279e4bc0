//! NP011: rules written for a direction that an explicit policyTypes leaves out.

use netpol_engine::Engine;
use netpol_model::Direction;

use super::plural;
use crate::finding::{Finding, Location};

pub(super) fn check(engine: &Engine, out: &mut Vec<Finding>) {
    for policy in &engine.cluster.policies {
        for direction in [Direction::Ingress, Direction::Egress] {
            let rules = policy.rules(direction);
            if policy.affects(direction) || rules.is_empty() {
                continue;
            }
            let listed: Vec<&str> = [
                (policy.affects_ingress, "Ingress"),
                (policy.affects_egress, "Egress"),
            ]
            .into_iter()
            .filter_map(|(on, name)| on.then_some(name))
            .collect();
            let verb = if direction == Direction::Ingress {
                "Ingress"
            } else {
                "Egress"
            };
            out.push(
                Finding::new(
                    "NP011",
                    Location::at(&policy.origin, rules[0].line),
                    format!(
                        "policyTypes [{}] does not list {verb}: the {} {} ignored",
                        listed.join(", "),
                        plural(
                            rules.len(),
                            &format!("{} rule", direction.as_str()),
                            &format!("{} rules", direction.as_str())
                        ),
                        if rules.len() == 1 { "is" } else { "are" }
                    ),
                    format!(
                        "add {verb} to spec.policyTypes, or delete spec.{}",
                        direction.as_str()
                    ),
                )
                .policy(policy.id()),
            );
        }
    }
}
