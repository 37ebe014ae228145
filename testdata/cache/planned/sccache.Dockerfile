FROM rust:1
ENV RUSTC_WRAPPER=sccache
WORKDIR /app
COPY . .
RUN cargo build --release
