//! `scanline-station`: the daemon at the meal line or shelter door. It parses its command line
//! and hands over to the library.

fn main() -> std::process::ExitCode {
    scanline_station::main_with_args(std::env::args_os())
}
