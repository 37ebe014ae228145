//! Generated protobuf types (stub: to be written).
