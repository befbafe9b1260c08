# dcr-shim container image. No Docker engine runs in the project's CI; the
# image is proven without one: scripts/test.sh builds the binary exactly as
# the build stage below does, and e2e/test_image_e2e.py runs it, stripped, as
# uid 10001 in a Debian bookworm root file system holding only the runtime
# stage's packages (it reads them from this file: keep the apt-get install
# line of the runtime stage on one line).
#
# Build stage: the Swift toolchain plus the -dev packages the product needs
# (OpenSSL, and the libcurl that Foundation's networking links).
FROM swift:6.3-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends libssl-dev libcurl4-openssl-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Resolve dependencies first so source edits do not refetch them.
COPY Package.swift ./
RUN swift package resolve
COPY Sources ./Sources
RUN swift build -c release --product dcr-shim --static-swift-stdlib \
 && mkdir -p /out \
 && cp "$(swift build -c release --show-bin-path)/dcr-shim" /out/dcr-shim \
 && strip /out/dcr-shim

# Runtime stage: only the runtime libraries and the stripped binary, as a
# non-root user with its data directory.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates libssl3 libcurl4 tzdata \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 dcrshim \
 && useradd --system --uid 10001 --gid dcrshim --home-dir /var/lib/dcr-shim --shell /usr/sbin/nologin dcrshim \
 && mkdir -p /var/lib/dcr-shim /etc/dcr-shim \
 && chown dcrshim:dcrshim /var/lib/dcr-shim && chmod 0700 /var/lib/dcr-shim
COPY --from=build /out/dcr-shim /usr/local/bin/dcr-shim
USER 10001:10001
WORKDIR /var/lib/dcr-shim
ENV DCR_SHIM_DATA_DIR=/var/lib/dcr-shim
EXPOSE 8080
# Probes: GET /healthz (liveness) and /readyz (store and IdP reachable);
# the slim image has no HTTP client, so let the orchestrator probe them.
ENTRYPOINT ["/usr/local/bin/dcr-shim"]
CMD ["serve", "--config", "/etc/dcr-shim/dcr-shim.yaml"]
