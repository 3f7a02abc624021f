//! Runs the `#![no_std]` library's online training and prints, per line, the number of steps
//! and the mean loss of the last 35 samples: tests/no_std.rs reads that the loss falls.

use chainrule_no_std_check::{chainrule_train, chainrule_train_momentum};

fn main() {
    for steps in [35, 350, 3500] {
        println!("adam {steps} {}", chainrule_train(1, steps));
    }
    println!("momentum 350 {}", chainrule_train_momentum(1, 350));
}
