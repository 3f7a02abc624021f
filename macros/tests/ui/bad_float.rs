chainrule_macros::derive!(float = f16, file = "../../../../examples/nets/seed004.nn");

fn main() {}
