FROM busybox AS build
RUN true
FROM alpine AS build
