//! The whole pipeline on arbitrary text: parse -> check -> derive -> LaTeX (every form) ->
//! evaluate and explain at the file's defaults. Any panic, and any error whose span falls
//! outside the source or whose message is empty or spans lines, is a finding.

#![no_main]

use std::collections::HashMap;

use chainrule_core::derive::{MAX_CLOSED_FORM, derive};
use chainrule_core::ir::{NodeId, Var};
use chainrule_core::latex::{Form, NumericPoint, render};
use chainrule_core::layout::Slot;
use chainrule_core::model::Symbol;
use chainrule_core::{check_source, eval, explain, point};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        pipeline(text);
    }
});

fn pipeline(text: &str) {
    let model = match check_source(text) {
        Ok(model) => model,
        Err(diagnostics) => {
            assert!(!diagnostics.is_empty(), "an error without a diagnostic");
            for d in &diagnostics {
                assert!(
                    d.span.start <= d.span.end && d.span.end <= text.len(),
                    "span {:?} outside a source of {} bytes: {}",
                    d.span,
                    text.len(),
                    d.message
                );
                assert!(
                    text.is_char_boundary(d.span.start) && text.is_char_boundary(d.span.end),
                    "span {:?} splits a character: {}",
                    d.span,
                    d.message
                );
                assert!(
                    !d.message.trim().is_empty() && !d.message.contains('\n'),
                    "message not one non-empty line: {:?}",
                    d.message
                );
            }
            return;
        }
    };
    for network in &model.networks {
        let mut derivation = derive(network, &model.functions);
        // One element of every parameter for the chain form: the first one.
        // Like `chainrule latex --form chain`, skip weights whose closed form is past the
        // printing limit (the CLI refuses those with an error).
        let mut memo = HashMap::new();
        let firsts: Vec<(Var, NodeId)> = derivation
            .gradients
            .iter()
            .copied()
            .filter(|(v, _)| matches!(derivation.layout.slot(*v), Slot::Value(Symbol::Param(_), 0)))
            .collect();
        let mut weights = Vec::new();
        for (weight, gradient) in firsts {
            let closed = derivation.closed_form(gradient, &mut memo);
            if derivation.tree_size(closed) <= MAX_CLOSED_FORM {
                weights.push(weight);
            }
        }
        if !weights.is_empty() {
            let _ = render(network, &mut derivation, Form::Chain, &weights, None, false);
        }
        for form in [Form::Delta, Form::General] {
            let _ = render(network, &mut derivation, form, &[], None, false);
        }
        let Ok(params) = point::params(network, None) else {
            continue;
        };
        let Ok(samples) = point::samples(network, None) else {
            continue;
        };
        let result = eval::evaluate_batch(&derivation, network, &params, &samples);
        let first = &result.samples[0];
        let numeric = NumericPoint {
            slots: first.slots.clone(),
            gradient: first.gradient.concat(),
            lr: Some(0.1),
            batch: (samples.len() > 1).then(|| (samples.len(), result.gradient.concat())),
        };
        let _ = render(
            network,
            &mut derivation,
            Form::Numeric,
            &[],
            Some(&numeric),
            true,
        );
        let _ = explain::explain(network, &derivation, &params, &samples, Some(0.1));
    }
}
