FROM busybox
COPY --link=yes a /b
