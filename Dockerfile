# mcpgw on Debian 12 (docs/install.md). Build:  docker build -t mcpgw .
# Run:  docker run -d --name mcpgw -p 8080:8080 -v mcpgw-state:/var/lib/mcpgw mcpgw
# Keys: docker exec mcpgw mcpgw apikey create --name me --roles admin -c /etc/mcpgw/mcpgw.yaml
#
# The package lists are scripts/bootstrap.sh's: the build stage takes its -dev
# packages for the libraries the Makefile links (PKGS, and jemalloc), the
# runtime stage the library packages the binary needs (its DT_NEEDED
# entries); tests/integration/install.test.mjs checks both against them.

FROM debian:12-slim AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential pkg-config \
      libevent-dev libjansson-dev libcurl4-openssl-dev libyaml-dev libssl-dev \
      libpcre2-dev libcjose-dev libsqlite3-dev libhiredis-dev libpq-dev libjemalloc-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Makefile ./
COPY src ./src
COPY docs/mcpgw.1 ./docs/
COPY examples ./examples
COPY packaging ./packaging
RUN make -j"$(nproc)" all \
 && make install PREFIX=/usr DESTDIR=/out

FROM debian:12-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libcjose0 libcurl4 libevent-2.1-7 libevent-openssl-2.1-7 libhiredis0.14 libjansson4 \
      libjemalloc2 libpcre2-8-0 libpq5 libsqlite3-0 libssl3 libyaml-0-2 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home-dir /var/lib/mcpgw --shell /usr/sbin/nologin mcpgw \
 && install -d -o mcpgw -g mcpgw -m 0750 /var/lib/mcpgw /run/mcpgw
COPY --from=build /out/usr/bin/mcpgw /usr/bin/mcpgw
COPY --from=build /out/usr/share/man/man1/mcpgw.1 /usr/share/man/man1/mcpgw.1
COPY --from=build /out/usr/share/mcpgw /usr/share/mcpgw
COPY --from=build /out/etc/mcpgw /etc/mcpgw
# The installed configuration (packaging/mcpgw.yaml): API keys, the store in
# the volume; listening on every interface inside the container.
ENV MCPGW_LISTEN=0.0.0.0:8080 STATE_DIRECTORY=/var/lib/mcpgw RUNTIME_DIRECTORY=/run/mcpgw
USER mcpgw
VOLUME /var/lib/mcpgw
EXPOSE 8080
# /health without curl: bash's /dev/tcp, one HTTP/1.1 request.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /health HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nConnection: close\\r\\n\\r\\n' >&3 && head -n1 <&3 | grep -q ' 200 '"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/mcpgw"]
CMD ["serve", "-c", "/etc/mcpgw/mcpgw.yaml"]
