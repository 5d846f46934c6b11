//! `sellsync-emulator`: runs the SP-API emulator on loopback until interrupted.

fn main() {
    std::process::exit(sellsync_emulator::cli::main(
        std::env::args().skip(1).collect(),
    ));
}
