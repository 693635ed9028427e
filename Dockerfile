# CloudEmu: AWS services on one port. Multi-stage: build with the Rust toolchain, ship only the
# binary on a slim Debian base (SQLite is compiled into the binary; it needs libc and libssl3).
#   docker build -t cloudemu .
#   docker run -p 4566:4566 -v cloudemu-data:/data cloudemu

FROM rust:1.95-slim-bookworm AS build
# The system OpenSSL hashes large bodies' MD5 (storage/src/body_md5.rs).
RUN apt-get update && apt-get install -y --no-install-recommends pkg-config libssl-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin cloudemu \
 && strip target/release/cloudemu

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libssl3 \
 && rm -rf /var/lib/apt/lists/*
RUN useradd --system --uid 10001 --home-dir /data cloudemu \
 && mkdir -p /data && chown cloudemu /data
COPY --from=build /src/target/release/cloudemu /usr/local/bin/cloudemu
USER cloudemu
# Inside a container, listen on every interface; state lives in the /data volume.
ENV CLOUDEMU_HOST=0.0.0.0 \
    CLOUDEMU_PORT=4566 \
    CLOUDEMU_DATA_DIR=/data
VOLUME ["/data"]
EXPOSE 4566
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/cloudemu"]
