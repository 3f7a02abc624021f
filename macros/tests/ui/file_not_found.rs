// An absolute path: `file` is joined to CARGO_MANIFEST_DIR, which an absolute path replaces,
// so the message names the same file wherever the crate is built.
chainrule_macros::derive!(file = "/nonexistent/chainrule/does_not_exist.nn");

fn main() {}
