# syntax=docker/dockerfile:1
# The gateway as a static binary on a distroless, non-root base.
#   docker build -t customer-gateway --build-arg VERSION=$(git describe --tags --always) .
#   docker run --rm -p 8080:8080 customer-gateway            # demo mode
#   docker run --rm -p 8080:8080 -v $PWD/examples:/etc/gateway:ro \
#     customer-gateway --config /etc/gateway/gateway.yaml

FROM golang:1.26-bookworm AS build
WORKDIR /src
# modules first: a source change does not download them again
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
# static (no libc), reproducible paths, version stamped (gateway --version)
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/gateway .

# distroless/static: CA certificates (HTTPS to the vendors) and tzdata, no
# shell or package manager; runs as uid 65532 (nonroot)
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/gateway /usr/local/bin/gateway
COPY examples/ /etc/gateway/
USER nonroot:nonroot
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=5s CMD ["/usr/local/bin/gateway", "--health", "http://127.0.0.1:8080/healthz"]
ENTRYPOINT ["/usr/local/bin/gateway"]
