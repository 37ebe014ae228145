pub const TEXT: &str = "v1";
