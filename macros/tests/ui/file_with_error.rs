// tests/compile_fail.rs copies tests/ui/nets/bad.nn beside the crate trybuild compiles, so the
// path is relative to that crate's manifest directory, as a user's is to theirs.
chainrule_macros::derive!(file = "nets/bad.nn");

fn main() {}
