pub const TEXT: &str = "hoard-cargo-demo v1";
