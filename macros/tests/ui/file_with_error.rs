// trybuild compiles this in target/tests/trybuild/chainrule-macros, four levels below the
// workspace root; file paths are relative to the compiled crate's manifest directory.
chainrule_macros::derive!(file = "../../../../macros/tests/ui/bad.nn");

fn main() {}
