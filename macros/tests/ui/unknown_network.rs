chainrule_macros::derive!(file = "nets/seed004.nn", network = seed005);

fn main() {}
