//! Deciding hand-derived claims (`claim dA/dB = EXPR`): symbolically after bringing both
//! sides to a canonical form, and numerically at seeded random points away from kinks; and,
//! when a claim fails, saying where: a point and both values, a constant ratio (a sign flip,
//! the loss convention's factor 2), and which chain-rule factor is missing, extra or wrong.

pub(crate) mod classify;
mod conv;
mod diagnose;
mod ratio;
mod recurrence;

use std::collections::HashMap;

use crate::builtin::Builtin;
use crate::canon::Canon;
use crate::derive::Derivation;
use crate::eval::{Evaluator, evaluate_sample};
use crate::inner::Forward;
use crate::ir::{Node, NodeId, Var};
use crate::lower::Lowering;
use crate::model::{Claim, Function, IndexTerm, Network, ScalarRef, TExpr};
use crate::print::{Printer, Style};

/// Most symbols a diagnosis prints of one expression.
const MAX_SHOWN: u64 = 400;
/// Most characters of an expression a diagnosis prints (long names add up before symbols do).
pub(super) const MAX_SHOWN_CHARS: usize = 600;

/// Random points each claim is evaluated at.
pub const POINTS: usize = 16;
/// Most index assignments a general claim is checked for.
pub const MAX_INSTANCES: usize = 4096;

/// How a claim that holds was decided.
#[derive(Clone, Debug, PartialEq)]
pub enum Decided {
    /// Both sides have the same canonical form (and agree at every point).
    Symbolically,
    /// The canonical forms differ in shape, but both sides agree at every random point.
    Numerically,
}

/// The outcome for one claim.
#[derive(Clone, Debug, PartialEq)]
pub struct ClaimReport {
    /// The claim as written.
    pub text: String,
    /// Where it was written.
    pub span: crate::Span,
    /// `None` if it holds for every index value; otherwise the failures.
    pub holds: Option<Decided>,
    /// How many index assignments were checked (1 for a claim without index variables).
    pub instances: usize,
    /// Index assignments that fail (`i=0, j=1`), and those that hold, for general claims.
    pub failing: Vec<String>,
    /// Index assignments that hold.
    pub holding: Vec<String>,
    /// Lines explaining the first failure.
    pub diagnosis: Vec<String>,
}

/// One index assignment of a claim, with the nodes built for it.
struct Instance {
    label: String,
    values: Vec<usize>,
    of: Var,
    wrt: Var,
    derived: NodeId,
    claimed: NodeId,
    chain: Vec<diagnose::ChainFactor>,
    /// The claimed side with one read moved a step, per [`recurrence::step_shifts`].
    shifted: Vec<NodeId>,
}

/// Checks every claim of a network.
pub fn check_claims(network: &Network, functions: &[Function]) -> Vec<ClaimReport> {
    // A refused claim fails on its own; the others are checked as usual.
    let mut reports: Vec<ClaimReport> = network
        .refused_claims
        .iter()
        .map(|refused| ClaimReport {
            text: refused.text.clone(),
            span: refused.span,
            holds: None,
            instances: 1,
            failing: Vec::new(),
            holding: Vec::new(),
            diagnosis: refused.reasons.clone(),
        })
        .collect();
    if !network.claims.is_empty() {
        let mut derivation = crate::derive::derive(network, functions);
        for claim in &network.claims {
            reports.push(check_claim(network, functions, &mut derivation, claim));
        }
    }
    reports.sort_by_key(|r| r.span.start);
    reports
}

fn assignments(claim: &Claim) -> Vec<Vec<usize>> {
    let free: Vec<usize> = (0..claim.vars.len())
        .filter(|&v| claim.vars[v].free)
        .collect();
    let mut out = vec![vec![0usize; claim.vars.len()]];
    for &v in &free {
        let range = claim.vars[v].range;
        out = out
            .into_iter()
            .flat_map(|values| {
                (0..range).map(move |x| {
                    let mut values = values.clone();
                    values[v] = x;
                    values
                })
            })
            .take(MAX_INSTANCES)
            .collect();
    }
    out
}

fn resolve(derivation: &Derivation, network: &Network, r: &ScalarRef, values: &[usize]) -> Var {
    let value = |t: &IndexTerm| usize::try_from(t.value(values)).unwrap_or(0);
    let dims = network.shape_of(r.symbol).dims();
    let elem = r
        .indices
        .iter()
        .zip(&dims)
        .fold(0, |acc, (t, d)| acc * d + value(t));
    derivation.layout.var(r.symbol, elem)
}

fn check_claim(
    network: &Network,
    functions: &[Function],
    d: &mut Derivation,
    claim: &Claim,
) -> ClaimReport {
    // Phase 1: every node the checks need, before any evaluator sizes its memory.
    let mut instances = Vec::new();
    // One reverse sweep per `of` serves every index value of a general claim.
    let mut sweeps: HashMap<Var, HashMap<Var, NodeId>> = HashMap::new();
    // Built on the first instance: a claimed side may hold `grad(S, v)`.
    let mut known: Option<Forward> = None;
    let mut shifts = recurrence::step_shifts(claim, network);
    shifts.extend(conv::kernel_flips(claim, network));
    for values in assignments(claim) {
        let label = claim
            .vars
            .iter()
            .zip(&values)
            .filter(|(v, _)| v.free)
            .map(|(v, x)| format!("{}={x}", v.name))
            .collect::<Vec<_>>()
            .join(", ");
        let of = resolve(d, network, &claim.of, &values);
        let wrt = resolve(d, network, &claim.wrt, &values);
        let table = match sweeps.get(&of) {
            Some(table) => table,
            None => {
                let table = d.derivatives_of(of);
                sweeps.entry(of).or_insert(table)
            }
        };
        let derived = match table.get(&wrt) {
            Some(&node) => node,
            None => d.graph.constant_node(0.0),
        };
        // The claimed side, and the same with one slip undone (`recurrence::Rewrite`), for
        // the diagnosis.
        let mut lower = |rhs: &TExpr| {
            let layout = d.layout.clone();
            let known = known.get_or_insert_with(|| Forward::from_definitions(d.forward.clone()));
            Lowering {
                network,
                functions,
                layout: &layout,
                graph: &mut d.graph,
                vars: &claim.vars,
                known: Some(known),
            }
            .expr(rhs, &mut values.clone())[0]
        };
        let claimed = lower(&claim.rhs);
        let shifted = shifts.iter().map(|shift| lower(&shift.rhs)).collect();
        let chain = diagnose::chain_factors(d, of, wrt, &sweeps[&of]);
        instances.push(Instance {
            label,
            values,
            of,
            wrt,
            derived,
            claimed,
            chain,
            shifted,
        });
    }
    // Phase 2: the points.
    let points = random_points(d, network, claim.span.start as u64);
    let mut evaluators: Vec<Evaluator<'_>> = points
        .iter()
        .map(|slots| Evaluator::from_slots(d, slots))
        .collect();
    // Phase 3: decide each instance.
    let named: HashMap<NodeId, Var> = d.forward.iter().map(|def| (def.value, def.var)).collect();
    let mut canon = Canon::new(&d.graph, &named);
    // The statement's text up to the end of its formula (not a trailing comment).
    let formula_end = claim
        .rhs
        .span
        .end
        .saturating_sub(claim.span.start)
        .min(claim.text.len());
    let text = claim
        .text
        .get(..formula_end)
        .unwrap_or(&claim.text)
        .trim()
        .to_string();
    let mut report = ClaimReport {
        text,
        span: claim.span,
        holds: Some(Decided::Symbolically),
        instances: instances.len(),
        failing: Vec::new(),
        holding: Vec::new(),
        diagnosis: Vec::new(),
    };
    let mut first_failure: Option<&Instance> = None;
    // Each instance's values at the points, (derived, claimed), to compare across instances.
    let mut table: Vec<(Vec<f64>, Vec<f64>)> = Vec::new();
    for instance in &instances {
        let derived: Vec<f64> = evaluators
            .iter_mut()
            .map(|e| e.value(instance.derived))
            .collect();
        let claimed: Vec<f64> = evaluators
            .iter_mut()
            .map(|e| e.value(instance.claimed))
            .collect();
        let agree = diagnose::same(&derived, &claimed);
        table.push((derived, claimed));
        let symbolic = matches!((canon.form(instance.derived), canon.form(instance.claimed)), (Some(a), Some(b)) if a == b);
        if agree {
            report.holding.push(instance.label.clone());
            if !symbolic {
                report.holds = report.holds.take().map(|_| Decided::Numerically);
            }
            continue;
        }
        report.holds = None;
        report.failing.push(instance.label.clone());
        if report.diagnosis.is_empty() {
            let text = |node: NodeId| {
                // A recurrence's delta written out in closed form grows geometrically with
                // the steps: past a few lines, say how long it is instead of printing it.
                let size = d.tree_size(node);
                if size > MAX_SHOWN {
                    return format!(
                        "(an expression of {size} symbols written out; `chainrule latex --form delta` shows it step by step)"
                    );
                }
                let leaf = |v: Var| d.layout.describe(network, v);
                let printed = Printer {
                    graph: &d.graph,
                    leaf: &leaf,
                    style: Style::Text,
                }
                .expr(node);
                if printed.len() > MAX_SHOWN_CHARS {
                    return format!(
                        "(an expression of {size} symbols written out; `chainrule latex --form delta` shows it step by step)"
                    );
                }
                printed
            };
            let context = diagnose::Context {
                network,
                derivation: d,
                points: &points,
                text: &text,
            };
            report.diagnosis = context.explain(
                instance.of,
                instance.wrt,
                instance.derived,
                instance.claimed,
                &instance.chain,
                &mut evaluators,
                &instance.label,
            );
            first_failure = Some(instance);
        }
    }
    // A read a step off (`h[t]` for `h[t - 1]`): the moved claim holds everywhere.
    let shifted_line = shifts
        .iter()
        .enumerate()
        .find(|&(s, _)| {
            report.holds.is_none()
                && instances
                    .iter()
                    .zip(&table)
                    .all(|(instance, (derived, _))| {
                        let moved: Vec<f64> = evaluators
                            .iter_mut()
                            .map(|e| e.value(instance.shifted[s]))
                            .collect();
                        diagnose::same(derived, &moved)
                    })
        })
        .map(|(_, shift)| shift.line.clone());
    drop(evaluators);
    if report.holds.is_none()
        && let Some(line) = swapped_indices(claim, &instances, &table)
    {
        // The swap explains every value; the factor comparison of one instance would only
        // list the symptoms (each factor at the wrong element).
        report.diagnosis.truncate(2);
        report.diagnosis.insert(0, line);
        return report;
    }
    let holds: Vec<bool> = table.iter().map(|(d, c)| diagnose::same(d, c)).collect();
    if report.holds.is_none()
        && let Some(line) = recurrence::missing_carried_term(claim, network, &instances, &holds)
    {
        report.diagnosis.insert(0, line);
        return report;
    }
    if let Some(line) = shifted_line {
        report.diagnosis.truncate(2);
        report.diagnosis.insert(0, line);
        return report;
    }
    if let Some(instance) = first_failure {
        let found = classify::findings(
            network,
            d,
            &points,
            instance.of,
            instance.wrt,
            instance.derived,
            instance.claimed,
        );
        // A named classifier mistake says more than the generic factor comparison.
        // It goes right after the claimed and derived values and the point where they differ.
        let at = report.diagnosis.len().min(3);
        report.diagnosis.splice(at..at, found);
    }
    report
}

/// Two free index variables of equal range that the claim has exchanged: at every index
/// value the claim equals the derivative at the values swapped (`dL/dW[j][k] = delta[k] x[j]`
/// is the transpose). A line saying so, naming one instance, or `None`.
fn swapped_indices(
    claim: &Claim,
    instances: &[Instance],
    table: &[(Vec<f64>, Vec<f64>)],
) -> Option<String> {
    let free: Vec<usize> = (0..claim.vars.len())
        .filter(|&v| claim.vars[v].free)
        .collect();
    for (n, &a) in free.iter().enumerate() {
        for &b in &free[n + 1..] {
            if claim.vars[a].range != claim.vars[b].range || claim.vars[a].range < 2 {
                continue;
            }
            let partner = |values: &[usize]| {
                let mut swapped = values.to_vec();
                swapped.swap(a, b);
                instances.iter().position(|i| i.values == swapped)
            };
            let all = instances.iter().enumerate().all(|(i, instance)| {
                partner(&instance.values).is_some_and(|s| diagnose::same(&table[i].1, &table[s].0))
            });
            let Some(example) = instances
                .iter()
                .enumerate()
                .find(|(i, _)| !diagnose::same(&table[*i].0, &table[*i].1))
            else {
                continue;
            };
            if !all {
                continue;
            }
            let (x, y) = (&claim.vars[a].name, &claim.vars[b].name);
            let swapped = partner(&example.1.values)
                .map(|s| instances[s].label.clone())
                .unwrap_or_default();
            return Some(format!(
                "indices swapped: the formula has `{x}` and `{y}` exchanged, so it gives the transpose: at {} it equals the derivative at {swapped}; exchange `{x}` and `{y}` in the formula",
                example.1.label
            ));
        }
    }
    None
}

/// Seeded random points (every slot's value: forward values computed), away from kinks of
/// relu, abs, step, sign, maximum and minimum and from poles, with positive values where `log` or `sqrt` need them.
pub(crate) fn random_points(d: &Derivation, network: &Network, seed: u64) -> Vec<Vec<f64>> {
    let (lo, hi) = crate::draw::value_range(d);
    let mut uniform = crate::draw::uniform(seed ^ 0x9E37_79B9_7F4A_7C15, (lo, hi));
    // Each kink or pole as the two sides that meet there (the second is 0 but for a pair).
    let kinks: Vec<(NodeId, Option<NodeId>)> = d
        .graph
        .nodes()
        .filter_map(|(_, n)| match n {
            Node::Func(Builtin::Relu | Builtin::Abs | Builtin::Step | Builtin::Sign, a) => {
                Some((*a, None))
            }
            Node::Div(_, b) => Some((*b, None)),
            Node::Pair(_, a, b) => Some((*a, Some(*b))),
            _ => None,
        })
        .collect();
    let mut out = Vec::new();
    for _ in 0..POINTS * 8 {
        if out.len() == POINTS {
            break;
        }
        let (params, sample) = crate::draw::point(network, &mut uniform, (lo, hi));
        let result = evaluate_sample(d, network, &params, &sample);
        if result
            .slots
            .iter()
            .take(d.layout.len())
            .any(|v| !v.is_finite() && !v.is_nan())
        {
            continue;
        }
        let mut evaluator = Evaluator::from_slots(d, &result.slots);
        let gap = |evaluator: &mut Evaluator, (a, b): (NodeId, Option<NodeId>)| {
            evaluator.value(a) - b.map_or(0.0, |b| evaluator.value(b))
        };
        if kinks.iter().any(|&k| gap(&mut evaluator, k).abs() < 1e-3) {
            continue;
        }
        out.push(result.slots);
    }
    out
}
