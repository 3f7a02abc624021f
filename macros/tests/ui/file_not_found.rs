chainrule_macros::derive!(file = "nets/does_not_exist.nn");

fn main() {}
