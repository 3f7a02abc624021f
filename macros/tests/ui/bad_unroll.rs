chainrule_macros::derive!(unroll = sometimes, file = "../../../../examples/nets/seed004.nn");

fn main() {}
