//! The training library linked whole, as firmware would link it: everything it needs, from
//! `core` and `libm` up, in one static library, with the panic handler a `#![no_std]` image
//! must supply.

#![no_std]

pub use chainrule_no_std_check::{chainrule_train, chainrule_train_f32, chainrule_train_momentum};

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    loop {}
}
