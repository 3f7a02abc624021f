chainrule_macros::derive!(file = nets::seed004);

fn main() {}
