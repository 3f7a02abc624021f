chainrule_macros::derive!(batch = gemm, file = "../../../../examples/nets/seed004.nn");

fn main() {}
