//! Every kind of error `chainrule::derive!` reports, as trybuild `.rs`/`.stderr` pairs: each
//! must be a compile error at the right tokens (never a panic), with no follow-on errors.

#[test]
fn macro_errors() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
