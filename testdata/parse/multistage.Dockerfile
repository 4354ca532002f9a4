# syntax=docker/dockerfile:1.7
ARG BASE=busybox
ARG VERSION
FROM --platform=$BUILDPLATFORM ${BASE}:latest AS Build
ARG VERSION
WORKDIR /src
COPY --parents --exclude=*.tmp --exclude=.git src/ ./
RUN --mount=type=cache,target=/root/.cache --network=none make VERSION=$VERSION
FROM scratch
COPY --from=build --chown=app:app --chmod=0644 --link /src/out /out
ADD --checksum=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef https://example.invalid/a.tar.gz /a/
ENTRYPOINT ["/out/app"]
CMD ["--help"]
