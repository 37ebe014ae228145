//! Output of the command-line tools. The only place the binary writes to stdout: it is never
//! reached when running as a frontend, where stdout is the gRPC wire.

use std::io::Write;

/// Write a report to stdout, ending it with a newline.
pub fn output(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    if !text.ends_with('\n') {
        let _ = out.write_all(b"\n");
    }
}
