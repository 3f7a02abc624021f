chainrule_macros::derive! {}

fn main() {}
