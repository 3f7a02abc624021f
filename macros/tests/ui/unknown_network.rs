chainrule_macros::derive!(file = "../../../../examples/nets/seed004.nn", network = seed005);

fn main() {}
