pub const RUN: &str = "r0";
