//! The `hoard` binary: the BuildKit frontend (`hoard frontend`, the image's entrypoint) and the
//! command-line tools (`hoard explain`, `hoard eject`).
fn main() {
    eprintln!("hoard: not implemented yet");
    std::process::exit(1);
}
